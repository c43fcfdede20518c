package dev.timewait.junit5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.spi.SocketControl;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/**
 * Runs fixture classes (static nested, so surefire does not run them itself) through the Jupiter
 * engine and checks what the guard decided, against TIME_WAIT counted from the kernel's table.
 */
class TimeWaitGuardTest {
  /** The port of the peer the fixtures talk to; set before each fixture run. */
  static volatile int peerPort;

  private RawHttpPeer peer;

  private void startPeer(Behaviour behaviour) throws IOException {
    peer = RawHttpPeer.start(behaviour);
    peerPort = peer.port();
  }

  @AfterEach
  void stopPeer() throws IOException {
    if (peer != null) {
      peer.close();
    }
  }

  // ---- fixtures ------------------------------------------------------------------------------

  @ExtendWith(TimeWaitGuard.class)
  @GuardTimeWait(host = "127.0.0.1", portSupplier = "peerPort")
  static class NaiveClient {
    @Test
    void twelveNaiveRequests() throws IOException {
      RawClient.closeFirst(peerPort, 12);
    }
  }

  @GuardTimeWait(host = "127.0.0.1", portSupplier = "peerPort")
  static class ResetClient {
    @Test
    void twelveRequestsClosedByReset() throws IOException {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
      RawClient.through(factory, peerPort, 12, s -> {});
    }
  }

  @GuardTimeWait(portSupplier = "peerPort")
  static class ServerCloseClient {
    @Test
    void twelveRequestsClosedByTheServer() throws IOException {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      RawClient.through(factory, peerPort, 12, s -> SocketControl.arm(factory, s));
      assertThat(factory.accounting().snapshot().closedAfterPeerFin()).isEqualTo(12);
    }
  }

  @GuardTimeWait(portSupplier = "peerPort", scope = GuardScope.PER_CLASS, allowed = 5)
  static class PerClassTwoEach {
    @Test
    void first() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }

    @Test
    void second() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }

    @Test
    void third() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }
  }

  @GuardTimeWait(portSupplier = "peerPort", allowed = 5)
  static class PerTestTwoEach {
    @Test
    void first() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }

    @Test
    void second() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }

    @Test
    void third() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }
  }

  @GuardTimeWait(portSupplier = "peerPort", allowed = 3)
  static class AllowedThree {
    @Test
    void threePass() throws IOException {
      RawClient.closeFirst(peerPort, 3);
    }

    @Test
    void fourFail() throws IOException {
      RawClient.closeFirst(peerPort, 4);
    }

    @Test
    @GuardTimeWait(portSupplier = "peerPort", allowed = 4)
    void fourPassWhereTheMethodAllowsFour() throws IOException {
      RawClient.closeFirst(peerPort, 4);
    }
  }

  /** Watches 127.0.0.2 while the client talks to 127.0.0.1: another destination. */
  @GuardTimeWait(host = "127.0.0.2", portSupplier = "peerPort")
  static class OtherHost {
    @Test
    void naiveTowardsAnotherAddress() throws IOException {
      RawClient.closeFirst(peerPort, 3);
    }
  }

  static class Unreadable {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder()
        .port(() -> peerPort)
        .table(TcpTable.of(Path.of("/nonexistent/proc/net/tcp")))
        .build();

    @Test
    void naive() throws IOException {
      RawClient.closeFirst(peerPort, 3);
    }
  }

  static class Registered {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder()
        .destination(() -> new InetSocketAddress(InetAddress.getLoopbackAddress(), peerPort))
        .allowed(1)
        .build();

    @Test
    void twoNaive() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }
  }

  static class RegisteredPerClass {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder()
        .port(() -> peerPort)
        .scope(GuardScope.PER_CLASS)
        .build();

    @Test
    void one() throws IOException {
      RawClient.closeFirst(peerPort, 1);
    }

    @Test
    void two() throws IOException {
      RawClient.closeFirst(peerPort, 2);
    }
  }

  static class RegisteredPerClassInAnInstanceField {
    @RegisterExtension
    TimeWaitGuard guard = TimeWaitGuard.builder().port(8089).scope(GuardScope.PER_CLASS).build();

    @Test
    void nothing() {}
  }

  /** Each supplier form: every test makes one naive request, so each check sees exactly 1. */
  static class Suppliers {
    static IntSupplier intSupplierField = () -> peerPort;
    String instanceField = "127.0.0.1:" + peerPort;

    private static int privateStatic() {
      return peerPort;
    }

    int withParameter(TestInfo info) {
      assertThat(info.getTestMethod()).isPresent();
      return peerPort;
    }

    @Test
    @GuardTimeWait(portSupplier = "intSupplierField")
    void fromAnIntSupplierField() throws IOException {
      RawClient.closeFirst(peerPort, 1);
    }

    @Test
    @GuardTimeWait(portSupplier = "instanceField")
    void fromAHostPortStringField() throws IOException {
      RawClient.closeFirst(peerPort, 1);
    }

    @Test
    @GuardTimeWait(portSupplier = "privateStatic")
    void fromAPrivateStaticMethod() throws IOException {
      RawClient.closeFirst(peerPort, 1);
    }

    @Test
    @GuardTimeWait(portSupplier = "withParameter")
    void fromAMethodWithAResolvedParameter() throws IOException {
      RawClient.closeFirst(peerPort, 1);
    }
  }

  /** The port is only known once @BeforeEach has run: the guard asks again before the test. */
  @GuardTimeWait(portSupplier = "port")
  static class PortFromBeforeEach {
    private RawHttpPeer ownPeer;
    private int port;

    @BeforeEach
    void start() throws IOException {
      ownPeer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE);
      port = ownPeer.port();
    }

    @AfterEach
    void stop() throws IOException {
      ownPeer.close();
    }

    @Test
    void naive() throws IOException {
      RawClient.closeFirst(port, 2);
    }
  }

  /** The peer closes late: the client's sockets sit in FIN_WAIT2 until it does. */
  @GuardTimeWait(portSupplier = "peerPort")
  static class LateServerClose {
    @Test
    void threeNaive() throws IOException {
      RawClient.closeFirst(peerPort, 3);
    }
  }

  @GuardTimeWait(portSupplier = "peerPort", settleMillis = 100)
  static class LateServerCloseShortSettle {
    @Test
    void threeNaive() throws IOException {
      RawClient.closeFirst(peerPort, 3);
    }
  }

  @GuardTimeWait(portSupplier = "neverSet")
  static class PortNeverKnown {
    static int neverSet;

    @Test
    void nothing() {}
  }

  @GuardTimeWait(portSupplier = "noSuchMember")
  static class UnknownSupplier {
    @Test
    void nothing() {}
  }

  @GuardTimeWait
  static class NoDestination {
    @Test
    void nothing() {}
  }

  @GuardTimeWait(port = 8089, portSupplier = "peerPort")
  static class TwoDestinations {
    @Test
    void nothing() {}
  }

  @GuardTimeWait(port = 8089, allowed = -1)
  static class NegativeAllowed {
    @Test
    void nothing() {}
  }

  static class PerClassOnAMethod {
    @Test
    @GuardTimeWait(port = 8089, scope = GuardScope.PER_CLASS)
    void nothing() {}
  }

  // ---- tests ---------------------------------------------------------------------------------

  @Test
  void naiveClientClosingFirstFailsTheTestWithTheNumbersTheDestinationAndTheCause() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(NaiveClient.class);

    assertThat(results.testEvents().failed().count()).isEqualTo(1);
    String message = Kit.failures(results.testEvents()).get(0);
    assertThat(message).matches(Pattern.quote("12 new client TIME_WAIT sockets towards 127.0.0.1:" + peerPort
        + " during test twelveNaiveRequests() (allowed: 0; client TIME_WAIT in the kernel table before: ")
        + "\\d+, after: \\d+" + Pattern.quote(
            "); the client closed first. Use a timewait strategy, see README#strategies"));
    // the kernel agrees: the client side holds them
    assertThat(KernelTcp.clientTimeWait(peerPort)).isGreaterThanOrEqualTo(12);
  }

  @Test
  void resetCloseThroughTheSocketFactoryPassesAndLeavesNoTimeWaitOnEitherSide() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(ResetClient.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets towards 127.0.0.1:" + peerPort);
    assertThat(peer.requests()).isEqualTo(12);
    assertThat(KernelTcp.clientTimeWait(peerPort)).isZero();
    assertThat(KernelTcp.serverTimeWait(peerPort)).isZero();
  }

  @Test
  void serverCloseThroughTheSocketFactoryPassesWithTheTimeWaitOnTheServer() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.CLOSE_AFTER_RESPONSE);

    EngineExecutionResults results = Kit.run(ServerCloseClient.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets towards port " + peerPort);
    assertThat(KernelTcp.clientTimeWait(peerPort)).isZero();
    assertThat(KernelTcp.awaitServerTimeWait(peerPort, 12, Duration.ofSeconds(5))).isGreaterThanOrEqualTo(12);
  }

  @Test
  void theGuardWaitsForTheClientsClosingSocketsToReachTimeWait() throws IOException {
    KernelTcp.assumeReadable();
    peer = RawHttpPeer.start(Behaviour.CLOSE_LATE, Duration.ofMillis(300), false);
    peerPort = peer.port();

    EngineExecutionResults results = Kit.run(LateServerClose.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("3 new client TIME_WAIT sockets towards port " + peerPort + " during test threeNaive() (allowed: 0;");
  }

  @Test
  void socketsStillClosingAfterTheSettleBoundCountAsTheClientClosingFirst() throws IOException {
    KernelTcp.assumeReadable();
    peer = RawHttpPeer.start(Behaviour.CLOSE_LATE, Duration.ofSeconds(10), false);
    peerPort = peer.port();

    EngineExecutionResults results = Kit.run(LateServerCloseShortSettle.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets, and 3 more client sockets still in FIN_WAIT after waiting 100 ms,"
            + " towards port " + peerPort + " during test threeNaive() (allowed: 0;");
  }

  @Test
  void perClassScopeSumsOverTheClassAndFailsTheClassNotATest() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(PerClassTwoEach.class);

    results.testEvents().assertStatistics(s -> s.started(3).succeeded(3).failed(0));
    List<String> classFailures = Kit.failures(results.containerEvents());
    assertThat(classFailures).singleElement().asString()
        .startsWith("6 new client TIME_WAIT sockets towards port " + peerPort
            + " during class PerClassTwoEach (allowed: 5;")
        .endsWith("the client closed first. Use a timewait strategy, see README#strategies");
  }

  @Test
  void perTestScopeCountsEachTestOnItsOwn() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(PerTestTwoEach.class);

    results.testEvents().assertStatistics(s -> s.started(3).succeeded(3).failed(0));
    results.containerEvents().assertStatistics(s -> s.failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).hasSize(3)
        .allSatisfy(e -> assertThat(e).startsWith("2 new client TIME_WAIT sockets towards port " + peerPort));
  }

  @Test
  void anAllowanceLetsThatManyThroughAndFailsOneMore() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(AllowedThree.class);

    results.testEvents().assertStatistics(s -> s.started(3).succeeded(2).failed(1));
    assertThat(results.testEvents().failed().stream().map(e -> e.getTestDescriptor().getDisplayName()))
        .containsExactly("fourFail()");
    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("4 new client TIME_WAIT sockets towards port " + peerPort + " during test fourFail() (allowed: 3;");
  }

  @Test
  void theHostNarrowsTheDestination() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(OtherHost.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets towards 127.0.0.2:" + peerPort);
    assertThat(KernelTcp.clientTimeWait(peerPort)).isGreaterThanOrEqualTo(3);
  }

  @Test
  void whereTheTableCannotBeReadTheCheckIsSkippedAndNeverFails() throws IOException {
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(Unreadable.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("skipped for test naive(): cannot read the kernel's TCP table (unsupported on this OS:");
  }

  @Test
  void aRegisteredGuardUsesItsBuilderSettings() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(Registered.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("2 new client TIME_WAIT sockets towards 127.0.0.1:" + peerPort
            + " during test twoNaive() (allowed: 1;");
  }

  @Test
  void aRegisteredStaticGuardCanCountPerClass() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(RegisteredPerClass.class);

    results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(Kit.failures(results.containerEvents())).singleElement().asString()
        .startsWith("3 new client TIME_WAIT sockets towards port " + peerPort + " during class RegisteredPerClass");
  }

  @Test
  void theDestinationCanComeFromFieldsAndMethodsOfTheTestClass() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);

    EngineExecutionResults results = Kit.run(Suppliers.class);

    results.testEvents().assertStatistics(s -> s.started(4).failed(4));
    assertThat(Kit.failures(results.testEvents())).hasSize(4).allSatisfy(m -> assertThat(m)
        .matches("1 new client TIME_WAIT socket towards (port |127\\.0\\.0\\.1:)" + peerPort + " during test \\w+\\(\\) .*"));
  }

  @Test
  void aPortSetInBeforeEachIsPickedUpBeforeTheTest() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(PortFromBeforeEach.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("2 new client TIME_WAIT sockets towards port ");
  }

  @Test
  void aDestinationThatNeverBecomesKnownFailsTheTestWithTheReason() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(PortNeverKnown.class);

    assertThat(Kit.failures(results.testEvents())).containsExactly(
        "portSupplier 'neverSet' must be between 1 and 65535, but was 0");
  }

  /** A broken class-level annotation fails the class (in beforeAll); a broken method-level one the test. */
  @Test
  void badAnnotationsFailWithMessagesThatNameTheProblem() {
    KernelTcp.assumeReadable();

    assertThat(Kit.failures(Kit.run(UnknownSupplier.class).allEvents())).singleElement().asString()
        .isEqualTo("portSupplier 'noSuchMember' names no field or method of " + UnknownSupplier.class.getName()
            + ", its superclasses or its enclosing classes");
    assertThat(Kit.failures(Kit.run(NoDestination.class).allEvents())).containsExactly(
        "@GuardTimeWait on " + NoDestination.class.getName() + ": name the destination with port or portSupplier");
    assertThat(Kit.failures(Kit.run(TwoDestinations.class).allEvents())).containsExactly(
        "@GuardTimeWait on " + TwoDestinations.class.getName() + ": give either port or portSupplier, not both");
    assertThat(Kit.failures(Kit.run(NegativeAllowed.class).allEvents())).containsExactly(
        "@GuardTimeWait on " + NegativeAllowed.class.getName() + ": allowed must be >= 0, but was -1");
    assertThat(Kit.failures(Kit.run(PerClassOnAMethod.class).allEvents())).containsExactly(
        "@GuardTimeWait on " + PerClassOnAMethod.class.getName()
            + ".nothing(): scope PER_CLASS belongs on a test class, not on a method");
    // Before, a PER_CLASS guard in an instance field checked nothing and the test passed: JUnit
    // calls beforeAll and afterAll only on static @RegisterExtension fields.
    assertThat(Kit.failures(Kit.run(RegisteredPerClassInAnInstanceField.class).allEvents())).containsExactly(
        "a TimeWaitGuard with scope PER_CLASS must be registered in a static @RegisterExtension"
            + " field: JUnit calls beforeAll and afterAll only on those, so in an instance field it"
            + " would check nothing");
  }

  @Test
  void theBuilderRejectsBadValuesWithMessagesThatNameThem() {
    assertThatThrownBy(() -> TimeWaitGuard.builder().port(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> TimeWaitGuard.builder().allowed(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("allowed must be >= 0, but was -3");
    assertThatThrownBy(() -> TimeWaitGuard.builder().settle(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("settle must be >= 0, but was PT-1S");
    assertThatThrownBy(() -> TimeWaitGuard.builder().settle(Duration.ofMinutes(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("settle must be <= PT1M, but was PT2M");
    assertThatThrownBy(() -> TimeWaitGuard.builder().scope(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("scope cannot be null");
    assertThatThrownBy(() -> TimeWaitGuard.builder().port((IntSupplier) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("port cannot be null");
    assertThatThrownBy(() -> TimeWaitGuard.builder().destination(InetSocketAddress.createUnresolved("example.invalid", 80)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination must be resolved, but was example.invalid/<unresolved>:80");
    assertThatThrownBy(() -> TimeWaitGuard.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("destination cannot be null: call port(...) or destination(...)");
  }
}
