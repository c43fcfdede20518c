package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.StrategyAdvice;
import dev.timewait.diagnostics.StrategyAdvisor;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.diagnostics.TimeWaitMonitor;
import dev.timewait.diagnostics.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every reader of the live kernel, with {@code os.name} set to another OS for the test: each
 * reports "unsupported on this OS" as data and none throws.
 */
class OffLinuxTest {
  private static final String OTHER_OS = "Mac OS X";
  private String osName;

  /**
   * The JDK's networking classes read {@code os.name} once, when they initialise (and would look
   * for macOS classes under another name): initialise them with the real name first.
   */
  @org.junit.jupiter.api.BeforeAll
  static void initialiseTheJdkNetworkingUnderTheRealOs() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      exchangeOnce(TimeWaitSocketFactory.create(CloseStrategy.reset()), peer.port());
    }
  }

  @BeforeEach
  void pretendToBeAnotherOs() {
    osName = System.getProperty("os.name");
    System.setProperty("os.name", OTHER_OS);
  }

  @AfterEach
  void restoreTheOs() {
    System.setProperty("os.name", osName);
  }

  @Test
  void everyLiveReaderReportsUnsupportedOnThisOsAsData() throws Exception {
    String reason = "unsupported on this OS: " + OTHER_OS;
    InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);

    KernelSettings settings = KernelSettings.read();
    assertThat(settings.supported()).isFalse();
    assertThat(settings.unsupportedReason()).isEqualTo(reason);

    KernelCounters counters = KernelCounters.read();
    assertThat(counters.supported()).isFalse();
    assertThat(counters.unsupportedReason()).isEqualTo(reason);
    assertThat(KernelCounters.systemTimeWait()).isEqualTo(KernelCounters.UNKNOWN);

    PortBudget budget = PortBudget.of(server);
    assertThat(budget.supported()).isFalse();
    assertThat(budget.unsupportedReason()).isEqualTo(reason);

    StrategyAdvice advice = StrategyAdvisor.advise(settings, Workload.builder().build());
    assertThat(advice.reasons().get(0)).startsWith("The kernel settings are unknown (" + reason);

    try (TimeWaitMonitor monitor = TimeWaitMonitor.builder().destination(server)
        .minHeadroomShare(1.0).build().start()) {
      assertThat(monitor.isRunning()).isFalse();
      monitor.checkBudget();
      assertThat(monitor.latest()).hasValueSatisfying(s -> assertThat(s.supported()).isFalse());
    }
  }

  /**
   * Off Linux the strategies still work; only diagnostics report unsupported. One HTTP exchange
   * through the factory's socket per strategy, with {@code os.name} another OS: server close
   * still waits for the server's FIN (closed after peer FIN), reset still resets, while the
   * kernel's table reports unsupported. (The accounting is the evidence here: the table is what
   * this test makes unreadable.)
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"server-close", "reset"})
  void strategiesStillCloseTheirWayWhileTheTableReportsUnsupported(String name) throws Exception {
    CloseStrategy strategy = name.equals("reset") ? CloseStrategy.reset() : CloseStrategy.serverClose();
    CloseAccounting accounting = new CloseAccounting();
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(strategy, accounting);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      exchangeOnce(factory, peer.port());

      TcpCounts counts = TcpTable.system().count(TcpFilter.remotePort(peer.port()));
      assertThat(TcpTable.system().isSupported()).isFalse();
      assertThat(counts.supported()).isFalse();
      assertThat(counts.unsupportedReason()).hasValue("unsupported on this OS: " + OTHER_OS);
    }
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isEqualTo(1);
    assertThat(stats.open()).isZero();
    if (strategy instanceof ResetClose) {
      assertThat(stats.closedByReset()).isEqualTo(1);
    } else {
      assertThat(stats.closedAfterPeerFin()).as("%s", stats).isEqualTo(1);
      assertThat(stats.finWaitTimeouts()).isZero();
    }
  }

  /** One GET with Connection: close through a socket of {@code factory}; arms and closes it. */
  private static void exchangeOnce(TimeWaitSocketFactory factory, int port) throws java.io.IOException {
    Socket socket = factory.createSocket("127.0.0.1", port);
    OutputStream out = socket.getOutputStream();
    out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String response = readResponse(socket.getInputStream());
    assertThat(response).startsWith("HTTP/1.1 200").endsWith("ok");
    factory.arm(socket); // the exchange is complete
    socket.close();
  }

  @Test
  void theTestKitsSocketCountsSkipTheCallingTestInsteadOfReadingZero() {
    // Before, these read 0 (or nothing) off Linux, and an assertion of no leak or no connection
    // passed with nothing checked (as clientTimeWait's would, which skips too).
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.timewait.testing.Leaks.liveClientSockets(8080))
        .isInstanceOf(org.opentest4j.TestAbortedException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> dev.timewait.testing.KernelTcp.clientConnections(dev.timewait.diagnostics.TcpState.ESTABLISHED, 8080))
        .isInstanceOf(org.opentest4j.TestAbortedException.class);
  }

  /** Reads a response head and its 2-byte body ("ok") of the raw peer. */
  private static String readResponse(InputStream in) throws java.io.IOException {
    StringBuilder text = new StringBuilder();
    int bodyLeft = -1;
    while (bodyLeft != 0) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      text.append((char) b);
      if (bodyLeft > 0) {
        bodyLeft--;
      } else if (text.toString().endsWith("\r\n\r\n")) {
        bodyLeft = 2;
      }
    }
    return text.toString();
  }
}
