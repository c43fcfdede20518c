package dev.timewait.junit5;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.spi.SocketControl;
import dev.timewait.junit5.TimeWaitClient.Strategy;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

/**
 * The guard with WireMock's {@code @WireMockTest}, whose dynamic port only WireMock's extension
 * knows: the port supplier method takes the {@link WireMockRuntimeInfo} as a parameter.
 */
class WireMockGuardTest {
  static volatile int wireMockPort;

  @WireMockTest
  @GuardTimeWait(portSupplier = "port")
  static class NaiveAgainstWireMock {
    static int port(WireMockRuntimeInfo wm) {
      return wm.getHttpPort();
    }

    @Test
    void fiveNaiveRequests(WireMockRuntimeInfo wm) throws IOException {
      wireMockPort = wm.getHttpPort();
      stubFor(get("/").willReturn(ok("hello")));
      RawClient.closeFirst(wm.getHttpPort(), 5);
    }
  }

  @WireMockTest
  @GuardTimeWait(portSupplier = "port")
  static class ServerCloseAgainstWireMock {
    static int port(WireMockRuntimeInfo wm) {
      return wm.getHttpPort();
    }

    @Test
    void fiveRequestsClosedByTheServer(
        WireMockRuntimeInfo wm, @TimeWaitClient(strategy = Strategy.SERVER_CLOSE) TimeWaitSocketFactory sockets)
        throws IOException {
      wireMockPort = wm.getHttpPort();
      stubFor(get("/").willReturn(ok("hello")));
      RawClient.through(sockets, wm.getHttpPort(), 5, s -> SocketControl.arm(sockets, s));
      assertThat(sockets.accounting().snapshot().closedAfterPeerFin()).isEqualTo(5);
    }
  }

  /** The guard's beforeAll runs before WireMock's here, so the port is asked for again later. */
  @GuardTimeWait(portSupplier = "port", scope = GuardScope.PER_CLASS)
  @WireMockTest
  static class PerClassGuardRegisteredFirst {
    static int port(WireMockRuntimeInfo wm) {
      return wm.getHttpPort();
    }

    @Test
    void twoNaive(WireMockRuntimeInfo wm) throws IOException {
      wireMockPort = wm.getHttpPort();
      stubFor(get("/").willReturn(ok("hello")));
      RawClient.closeFirst(wm.getHttpPort(), 2);
    }

    @Test
    void oneNaive(WireMockRuntimeInfo wm) throws IOException {
      stubFor(get("/").willReturn(ok("hello")));
      RawClient.closeFirst(wm.getHttpPort(), 1);
    }
  }

  @Test
  void aNaiveClientAgainstWireMockFailsWithWireMocksPort() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(NaiveAgainstWireMock.class);

    assertThat(Kit.failures(results.testEvents())).singleElement().asString()
        .startsWith("5 new client TIME_WAIT sockets towards port " + wireMockPort
            + " during test fiveNaiveRequests() (allowed: 0;");
    assertThat(KernelTcp.clientTimeWait(wireMockPort)).isGreaterThanOrEqualTo(5);
  }

  @Test
  void serverCloseAgainstWireMockPassesWithTheTimeWaitOnWireMocksSide() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(ServerCloseAgainstWireMock.class);

    results.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    assertThat(Kit.entries(results, TimeWaitGuard.REPORT_KEY)).singleElement().asString()
        .startsWith("0 new client TIME_WAIT sockets towards port " + wireMockPort);
    assertThat(KernelTcp.awaitServerTimeWait(wireMockPort, 5, Duration.ofSeconds(5))).isGreaterThanOrEqualTo(5);
  }

  @Test
  void perClassWithWireMockAsksForThePortAgainOnceWireMockHasStarted() {
    KernelTcp.assumeReadable();

    EngineExecutionResults results = Kit.run(PerClassGuardRegisteredFirst.class);

    results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(Kit.failures(results.containerEvents())).singleElement().asString()
        .startsWith("3 new client TIME_WAIT sockets towards port " + wireMockPort
            + " during class PerClassGuardRegisteredFirst (allowed: 0;");
  }
}
