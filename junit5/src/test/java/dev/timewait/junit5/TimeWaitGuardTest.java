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

  /** The port of a second peer, for fixtures that talk to two servers. */
  static volatile int secondPeerPort;

  /** Two registered guards, one per server the test talks to: each checks its own. */
  static class TwoRegisteredGuards {
    @RegisterExtension
    static TimeWaitGuard first = TimeWaitGuard.builder().port(() -> peerPort).build();
    @RegisterExtension
    static TimeWaitGuard second = TimeWaitGuard.builder().port(() -> secondPeerPort).build();

    @Test
    void oneNaiveRequestToEach() throws IOException {
      RawClient.closeFirst(peerPort, 1);
      RawClient.closeFirst(secondPeerPort, 1);
    }
  }

  /** A registered guard, and a method annotated for another server: JUnit makes no second guard. */
  static class RegisteredGuardAndAnAnnotatedMethod {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder().port(() -> peerPort).build();

    @Test
    @GuardTimeWait(portSupplier = "secondPeerPort")
    void oneNaiveRequestToTheSecondServer() throws IOException {
      RawClient.closeFirst(secondPeerPort, 1);
    }
  }

  /** A class annotated for the second server, and a registered guard for the first. */
  @GuardTimeWait(portSupplier = "secondPeerPort")
  static class AnnotatedClassBesideARegisteredGuard {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder().port(() -> peerPort).build();

    @Test
    void oneNaiveRequestToEach() throws IOException {
      RawClient.closeFirst(peerPort, 1);
      RawClient.closeFirst(secondPeerPort, 1);
    }
  }

  /** A guard on a name with two addresses, 127.0.0.1 and ::1; the client reaches it at ::1. */
  static class DualStackName {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder().destination(() -> "dual.test:" + peerPort).build();

    @Test
    void oneNaiveRequestToTheSecondAddress() throws IOException {
      try (java.net.Socket socket = new java.net.Socket()) {
        socket.connect(new java.net.InetSocketAddress(java.net.InetAddress.getByName("::1"), peerPort), 5_000);
        RawClient.exchange(socket, false, s -> {});
      }
    }
  }

  /** A table file the test rewrites: what the kernel's table would show before and after. */
  static volatile Path tableFile;

  private static final String TABLE_HEAD =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

  /** A client TIME_WAIT row from 127.0.0.1:{@code localPort} to 127.0.0.1:8089. */
  private static String timeWaitRow(int localPort) {
    return String.format(java.util.Locale.ROOT, "   0: 0100007F:%04X 0100007F:1F99 06 00000000:00000000"
        + " 03:00000FA0 00000000     0        0 0 3 0000000000000000%n", localPort);
  }

  static class AnOldTimeWaitExpiresAsANewOneComes {
    @RegisterExtension
    static TimeWaitGuard guard = TimeWaitGuard.builder().destination(new InetSocketAddress("127.0.0.1", 8089))
        .table(TcpTable.of(tableFile)).build();

    @Test
    void oneNewTimeWaitWhileAnOldOneExpires() throws IOException {
      java.nio.file.Files.writeString(tableFile, TABLE_HEAD + timeWaitRow(40002));
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

    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    // slf4j-simple (the tests' binding) writes to System.err as it finds it at each line.
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    EngineExecutionResults results;
    EngineExecutionResults again;
    Watch.WARNED_UNREADABLE.set(false);
    try {
      results = Kit.run(Unreadable.class);
      again = Kit.run(Unreadable.class);
    } finally {
      System.setErr(err);
    }

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    again.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("skipped for test naive(): cannot read the kernel's TCP table (unsupported on this OS:");
    // Said once per JVM at WARN, where the build's output shows it (before, only in a report
    // entry, which Surefire does not print: a guarded test showed green on macOS, unchecked).
    String log = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(log.split("WARN.*guarded tests in this JVM check nothing", -1)).as(log).hasSize(2);
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
  void twoRegisteredGuardsEachCheckTheirOwnDestination() throws IOException {
    // Before, both guards kept their check under one key: the second replaced the first's, and
    // one destination's TIME_WAIT went unchecked (one report entry).
    assertEachOfTwoGuardsFindsItsNaiveRequest(TwoRegisteredGuards.class);
  }

  /**
   * Runs {@code fixture}, whose one test makes a naive request to each of two peers under two
   * guards: each guard reports its own destination's TIME_WAIT, and the test fails.
   */
  private void assertEachOfTwoGuardsFindsItsNaiveRequest(Class<?> fixture) throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);
    try (RawHttpPeer other = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE)) {
      secondPeerPort = other.port();

      EngineExecutionResults results = Kit.run(fixture);

      assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).hasSize(2)
          .anySatisfy(e -> assertThat(e).startsWith("1 new client TIME_WAIT socket towards port " + peerPort))
          .anySatisfy(e -> assertThat(e).startsWith("1 new client TIME_WAIT socket towards port " + secondPeerPort));
      results.testEvents().assertStatistics(s -> s.started(1).failed(1));
    }
  }

  @Test
  void anAnnotationNextToARegisteredGuardFailsTheTestInsteadOfBeingIgnored() throws IOException {
    KernelTcp.assumeReadable();
    startPeer(Behaviour.AWAIT_CLIENT_CLOSE);
    try (RawHttpPeer other = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE)) {
      secondPeerPort = other.port();

      EngineExecutionResults results = Kit.run(RegisteredGuardAndAnAnnotatedMethod.class);

      // JUnit registers an extension type once per class: the annotation's @ExtendWith made no
      // guard of its own, and its check of the second server never ran (the test passed).
      assertThat(Kit.failures(results.testEvents())).singleElement().asString()
          .contains("@GuardTimeWait on or above " + RegisteredGuardAndAnAnnotatedMethod.class.getName()
              + ".oneNaiveRequestToTheSecondServer() is not applied")
          .contains("@RegisterExtension");
    }
  }

  @Test
  void aClassAnnotationBesideARegisteredGuardGetsItsOwnGuardAndBothCheck() throws IOException {
    // JUnit registers a class's @ExtendWith before its static fields: both guards exist, and
    // each checks its own destination (refusing this, as a method's annotation is, would be wrong).
    assertEachOfTwoGuardsFindsItsNaiveRequest(AnnotatedClassBesideARegisteredGuard.class);
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

  @Test
  void aNameWithSeveralAddressesCountsTimeWaitTowardsEachOfThem() throws Exception {
    // OkHttp tries a name's IPv6 address first: the client's TIME_WAIT lands on [::1] while the
    // name's first address is 127.0.0.1. Before, the guard watched only the first address, counted
    // 0 and passed.
    KernelTcp.assumeReadable();
    java.net.InetAddress v6 = java.net.InetAddress.getByName("::1");
    try (java.net.ServerSocket server = new java.net.ServerSocket()) {
      try (java.net.Socket probe = new java.net.Socket()) {
        probe.bind(new java.net.InetSocketAddress(v6, 0)); // IPv6 loopback here, no connection made
        server.bind(new java.net.InetSocketAddress((java.net.InetAddress) null, 0)); // both families
      } catch (IOException noIpv6) {
        org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + noIpv6);
      }
      peerPort = server.getLocalPort();
      Thread peer = new Thread(() -> servePlainUntilClosed(server), "dual-stack-peer");
      peer.setDaemon(true);
      peer.start();
      DestinationSpec.Resolver dns = DestinationSpec.resolver;
      DestinationSpec.resolver = host -> host.equals("dual.test")
          ? new java.net.InetAddress[] {java.net.InetAddress.getByName("127.0.0.1"), v6}
          : dns.resolve(host);
      try {
        assertThat(Kit.failures(Kit.run(DualStackName.class).allEvents())).singleElement().asString()
            .startsWith("1 new client TIME_WAIT socket towards dual.test:" + peerPort + " [127.0.0.1:"
                + peerPort + ", [::1]:" + peerPort + "]");
      } finally {
        DestinationSpec.resolver = dns;
      }
    }
  }

  /** Answers each connection's requests with 200 until the client closes: the client closes first. */
  private static void servePlainUntilClosed(java.net.ServerSocket server) {
    while (!server.isClosed()) {
      try (java.net.Socket s = server.accept()) {
        s.setSoTimeout(5_000);
        java.io.InputStream in = s.getInputStream();
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
          head.write(b);
          if (head.toString(java.nio.charset.StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            head.reset();
          }
        }
      } catch (IOException e) {
        // the probe's connection, a reset, or the server closed
      }
    }
  }

  @Test
  void aTimeWaitLeftBeforeThatExpiresDuringTheTestDoesNotHideANewOne(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    // Before, the guard compared counts: an earlier test's TIME_WAIT (60 s) that expired during
    // this one cancelled this test's new one, and the test passed.
    org.junit.jupiter.api.Assumptions.assumeTrue(TcpTable.system().isSupported(), "Linux only");
    tableFile = dir.resolve("tcp");
    java.nio.file.Files.writeString(tableFile, TABLE_HEAD + timeWaitRow(40001));
    assertThat(Kit.failures(Kit.run(AnOldTimeWaitExpiresAsANewOneComes.class).allEvents())).singleElement()
        .asString().startsWith("1 new client TIME_WAIT socket towards 127.0.0.1:8089");
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
