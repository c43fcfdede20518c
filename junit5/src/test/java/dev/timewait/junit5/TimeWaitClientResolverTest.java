package dev.timewait.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseStrategy;
import dev.timewait.ServerClose;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.junit5.TestClients.CloseFailsClient;
import dev.timewait.junit5.TestClients.ConfiguredKeepAliveClient;
import dev.timewait.junit5.TestClients.KeepAliveClient;
import dev.timewait.junit5.TestClients.NaiveKeepAliveClient;
import dev.timewait.junit5.TestClients.PromisedClient;
import dev.timewait.CloseStrategy.Kind;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/** The parameter resolver, through fixture classes run with EngineTestKit against a raw peer. */
class TimeWaitClientResolverTest {
  static volatile int peerPort;
  static volatile KeepAliveClient lastClient;

  private RawHttpPeer peer;

  @BeforeEach
  void startPeer() throws IOException {
    peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE);
    peerPort = peer.port();
    lastClient = null;
  }

  @AfterEach
  void stopPeer() throws IOException {
    peer.close();
  }

  // ---- fixtures ------------------------------------------------------------------------------

  @GuardTimeWait(portSupplier = "peerPort")
  static class SocketFactories {
    static CloseStrategy quickServerClose() {
      return ServerClose.builder().finWait(Duration.ofMillis(500)).build();
    }

    @Test
    void resetFactory(@TimeWaitClient(strategy = Kind.RESET) TimeWaitSocketFactory sockets) throws IOException {
      assertThat(sockets.strategy()).isSameAs(CloseStrategy.reset());
      RawClient.through(sockets, peerPort, 10, s -> {});
      assertThat(sockets.accounting().snapshot().closedByReset()).isEqualTo(10);
    }

    @Test
    void defaultIsServerClose(@TimeWaitClient TimeWaitSocketFactory sockets) {
      assertThat(sockets.strategy()).isSameAs(CloseStrategy.serverClose());
    }

    @Test
    void tunedByAMethod(@TimeWaitClient(strategyMethod = "quickServerClose") TimeWaitSocketFactory sockets) {
      assertThat(sockets.strategy().finWait()).isEqualTo(Duration.ofMillis(500));
    }
  }

  /** A client taken by the constructor, under the default per-method lifecycle: refused. */
  @GuardTimeWait(portSupplier = "peerPort")
  static class ConstructorParameterPerMethod {
    ConstructorParameterPerMethod(@TimeWaitClient(strategy = Kind.RESET) TimeWaitSocketFactory sockets) {}

    @Test
    void first() {}
  }

  /** The same under PER_CLASS: one instance, one client, closed after the class. */
  @GuardTimeWait(portSupplier = "peerPort", scope = GuardScope.PER_CLASS)
  @org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
  static class ConstructorParameterPerClass {
    private final TimeWaitSocketFactory sockets;

    ConstructorParameterPerClass(@TimeWaitClient(strategy = Kind.RESET) TimeWaitSocketFactory sockets) {
      this.sockets = sockets;
    }

    @Test
    void first() throws IOException {
      RawClient.through(sockets, peerPort, 2, s -> {});
    }

    @Test
    void second() throws IOException {
      RawClient.through(sockets, peerPort, 2, s -> {});
    }
  }

  /** The naive client keeps its connection until it is closed: the guard must close it first. */
  @GuardTimeWait(portSupplier = "peerPort")
  static class NaiveKeepAlive {
    @Test
    void threeRequestsOnOneConnection(@TimeWaitClient NaiveKeepAliveClient client) throws IOException {
      lastClient = client;
      for (int i = 0; i < 3; i++) {
        assertThat(client.get(peerPort)).isEqualTo(200);
      }
    }
  }

  @GuardTimeWait(portSupplier = "peerPort")
  static class ConfiguredKeepAlive {
    @Test
    void threeRequestsOnOneConnection(@TimeWaitClient(strategy = Kind.RESET) ConfiguredKeepAliveClient client)
        throws IOException {
      lastClient = client;
      for (int i = 0; i < 3; i++) {
        assertThat(client.get(peerPort)).isEqualTo(200);
      }
    }
  }

  /** No guard: the client is still closed after the test. */
  static class Unguarded {
    @Test
    void oneRequest(@TimeWaitClient(strategy = Kind.RESET) ConfiguredKeepAliveClient client) throws IOException {
      lastClient = client;
      assertThat(client.get(peerPort)).isEqualTo(200);
    }
  }

  /** The provider's close fails after closing the naive client: the guard must still count. */
  @GuardTimeWait(portSupplier = "peerPort")
  static class CloseFails {
    @Test
    void oneRequest(@TimeWaitClient CloseFailsClient client) throws IOException {
      lastClient = client;
      assertThat(client.get(peerPort)).isEqualTo(200);
    }
  }

  static class WrongType {
    @Test
    void test(@TimeWaitClient PromisedClient client) {}
  }

  static class NoProvider {
    @Test
    void aString(@TimeWaitClient String notAClient) {}
  }

  static class Ambiguous {
    @Test
    void theCommonSupertype(@TimeWaitClient KeepAliveClient client) {}
  }

  static class NotAStrategy {
    static String text() {
      return "reset";
    }

    @Test
    void test(@TimeWaitClient(strategyMethod = "text") TimeWaitSocketFactory sockets) {}
  }

  // ---- tests ---------------------------------------------------------------------------------

  @Test
  void aSocketFactoryParameterGetsTheChosenStrategyAndLeavesNoTimeWait() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(SocketFactories.class);

    results.testEvents().assertStatistics(s -> s.started(3).succeeded(3).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).hasSize(3)
        .allSatisfy(e -> assertThat(e).startsWith("0 new client TIME_WAIT sockets towards port " + peerPort));
    assertThat(Kit.entries(results, "timewait.client")).contains(
        "TimeWaitSocketFactory (reset): CloseStats[connectionsOpened=10, closedAfterPeerFin=0, closedByReset=10, "
            + "closedLocallyFirst=0, finWaitTimeouts=0, finWaitAborts=0, closedIdleByPeer=0, staleRetries=0]");
    assertThat(peer.requests()).isEqualTo(10);
    assertThat(KernelTcp.clientTimeWait(peerPort)).isZero();
  }

  @Test
  void aConstructorParameterIsRefusedUnderThePerMethodLifecycleAndTakenUnderPerClass() {
    KernelTcp.assumeReadable();
    // Before, JUnit resolved it in the class's context: each test made a client that stayed open
    // until the class ended, after every per-test guard had counted.
    EngineExecutionResults refused = Kit.run(ConstructorParameterPerMethod.class);

    assertThat(Kit.failures(refused.testEvents())).singleElement().asString()
        .startsWith("@TimeWaitClient on a constructor parameter of "
            + ConstructorParameterPerMethod.class.getName() + ": under the per-method lifecycle");

    EngineExecutionResults perClass = Kit.run(ConstructorParameterPerClass.class);

    perClass.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(Kit.entries(perClass, "timewait.client")).singleElement().asString()
        .startsWith("TimeWaitSocketFactory (reset): CloseStats[connectionsOpened=4, closedAfterPeerFin=0,"
            + " closedByReset=4,");
    assertThat(Kit.entries(perClass, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets towards port " + peerPort + " during class");
    assertThat(KernelTcp.clientTimeWait(peerPort)).isZero();
  }

  @Test
  void resolvedClientsAreClosedBeforeTheGuardCountsSoTheirCloseCounts() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(NaiveKeepAlive.class);

    assertThat(lastClient.isClosed()).isTrue();
    assertThat(peer.accepted()).isEqualTo(1);
    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("1 new client TIME_WAIT socket towards port " + peerPort
            + " during test threeRequestsOnOneConnection() (allowed: 0;");
  }

  @Test
  void aConfiguredKeepAliveClientClosedByResetPasses() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(ConfiguredKeepAlive.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(lastClient.isClosed()).isTrue();
    assertThat(Kit.entries(results, "timewait.client")).containsExactly(
        "ConfiguredKeepAliveClient (reset): CloseStats[connectionsOpened=1, closedAfterPeerFin=0, closedByReset=1, "
            + "closedLocallyFirst=0, finWaitTimeouts=0, finWaitAborts=0, closedIdleByPeer=0, staleRetries=0]");
    assertThat(KernelTcp.clientTimeWait(peerPort)).isZero();
  }

  @Test
  void withoutAGuardTheClientIsClosedAfterTheTestAnyway() {
    EngineExecutionResults results = Kit.run(Unguarded.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(lastClient.isClosed()).isTrue();
  }

  @Test
  void aProviderWhoseCloseFailsStillLeavesTheGuardsCountWithTheCloseFailureInIt() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(CloseFails.class);

    assertThat(lastClient.isClosed()).isTrue();
    Throwable failure = results.testEvents().failed().stream().findFirst().orElseThrow()
        .getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
        .getThrowable().orElseThrow();
    assertThat(failure).hasMessageStartingWith("1 new client TIME_WAIT socket towards port " + peerPort);
    assertThat(failure.getSuppressed()).singleElement()
        .satisfies(s -> assertThat(s).hasMessage("the provider's close failed after closing the client"));
  }

  @Test
  void aProviderThatMakesTheWrongTypeFailsTheParameterAndHasWhatItMadeClosed() {
    int closedBefore = TestClients.WrongTypeProvider.CLOSED.get();

    EngineExecutionResults results = Kit.run(WrongType.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .isEqualTo(TestClients.WrongTypeProvider.class.getName() + " made a java.lang.String, not a "
            + PromisedClient.class.getName());
    assertThat(TestClients.WrongTypeProvider.CLOSED.get()).isEqualTo(closedBefore + 1);
  }

  @Test
  void aTypeNoProviderMakesFailsWithTheProvidersFound() {
    EngineExecutionResults results = Kit.run(NoProvider.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("@TimeWaitClient: no ClientProvider makes a java.lang.String; providers found: [")
        .contains("dev.timewait.junit5.SocketFactoryClientProvider -> dev.timewait.TimeWaitSocketFactory")
        .contains("dev.timewait.junit5.TestClients$AbsentProvider (client class absent: com.example.absent.HttpClient)")
        .endsWith("For HttpClient 5, OkHttp or Reactor Netty put timewait-httpclient5, timewait-okhttp or"
            + " timewait-reactor-netty on the test classpath; "
            + "for another client implement dev.timewait.junit5.ClientProvider and list it in META-INF/services");
  }

  @Test
  void aSupertypeThatSeveralProvidersMakeIsAmbiguous() {
    EngineExecutionResults results = Kit.run(Ambiguous.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("@TimeWaitClient: several ClientProviders make a " + KeepAliveClient.class.getName() + ": [")
        .endsWith("]; declare the parameter with the exact client type");
  }

  @Test
  void aStrategyMethodMustYieldACloseStrategy() {
    EngineExecutionResults results = Kit.run(NotAStrategy.class);

    assertThat(Kit.failures(results.testEvents())).containsExactly(
        "strategyMethod 'text' must yield a CloseStrategy, but yielded a java.lang.String");
  }

  @Test
  @SuppressWarnings("deprecation") // CloseableResource, what JUnit before 5.13 closes
  void resolvedClientsAreAStoreResourceThatEveryJUnitFrom59Closes() {
    // JUnit closes a store's AutoCloseable values only since 5.13; 5.9-5.12 (Spring Boot 3.x's)
    // closed only CloseableResource ones, so clients resolved without a guard on the same test
    // stayed open for the run.
    assertThat(new TimeWaitClientResolver.Clients())
        .isInstanceOf(org.junit.jupiter.api.extension.ExtensionContext.Store.CloseableResource.class)
        .isInstanceOf(AutoCloseable.class);
  }
}
