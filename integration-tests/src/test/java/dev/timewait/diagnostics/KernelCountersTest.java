package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.testing.ClientClosesFirst;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCountersTest {

  @Test
  void readsSockstatSnmpAndNetstatOfARealKernel() {
    KernelCounters c = KernelCounters.read(ProcFixtures.root("proc-default"));

    assertThat(c.supported()).isTrue();
    // 5 IPv4 + 5 IPv6 TIME_WAIT: sockstat's tw counts both families, sockstat6 has no tw
    assertThat(c.timeWait()).isEqualTo(10);
    assertThat(c.inUse()).isEqualTo(3 + 3);
    assertThat(c.orphans()).isZero();
    assertThat(c.activeOpens()).isEqualTo(12);
    assertThat(c.attemptFails()).isZero();
    assertThat(c.estabResets()).isZero();
    assertThat(c.outRsts()).isZero();
    assertThat(c.twEntered()).isEqualTo(10);
    assertThat(c.twRecycled()).isZero();
    assertThat(c.twKilled()).isZero();
    assertThat(c.timeWaitOverflow()).isZero();
    assertThat(c.abortOnData()).isZero();
    assertThat(c.abortOnClose()).isZero();
  }

  @Test
  void sockstatTimeWaitMatchesTheTimeWaitEntriesOfBothTables() {
    KernelCounters c = KernelCounters.read(ProcFixtures.root("proc-default"));
    assertThat(c.timeWait()).isEqualTo(ProcFixtures.table("proc-default").count(TcpFilter.any()).timeWait());
  }

  @Test
  void everyCounterHasARowWithItsKernelNameAndAnExplanation() {
    KernelCounters c = KernelCounters.read(ProcFixtures.root("proc-default"));

    assertThat(c.counters()).extracting(KernelCounter::name).containsExactly(
        "sockstat.tw", "sockstat.inuse", "sockstat.orphan", "Tcp.ActiveOpens", "Tcp.AttemptFails",
        "Tcp.EstabResets", "Tcp.OutRsts", "TcpExt.TW", "TcpExt.TWRecycled", "TcpExt.TWKilled",
        "TcpExt.TCPTimeWaitOverflow", "TcpExt.TCPAbortOnData", "TcpExt.TCPAbortOnClose");
    assertThat(c.counters().get(0).describe()).startsWith("sockstat.tw = 10: sockets in TIME_WAIT");
    assertThat(c.describe()).hasLineCount(13).contains("TcpExt.TCPAbortOnData = 0: ");
  }

  @Test
  void aCounterTheKernelDoesNotPrintIsUnknown(@TempDir Path tmp) throws IOException {
    Path root = KernelSettingsTest.copy(ProcFixtures.root("proc-default"), tmp);
    Files.delete(root.resolve("net/netstat"));

    KernelCounters c = KernelCounters.read(root);

    assertThat(c.supported()).isTrue();
    assertThat(c.timeWait()).isEqualTo(10);
    assertThat(c.twRecycled()).isEqualTo(KernelCounters.UNKNOWN);
    assertThat(c.counters().get(8).describe()).startsWith("TcpExt.TWRecycled = unknown: ");
  }

  @Test
  void missingFilesAreUnsupportedOnThisOsNotAnException() {
    KernelCounters c = KernelCounters.read(Path.of("/nonexistent/proc"));

    assertThat(c.supported()).isFalse();
    assertThat(c.unsupportedReason()).startsWith("unsupported on this OS");
    assertThat(c.timeWait()).isEqualTo(KernelCounters.UNKNOWN);
    assertThat(c.describe()).startsWith("unsupported on this OS");
    assertThat(c.minus(KernelCounters.read(ProcFixtures.root("proc-default"))).supported()).isFalse();
  }

  @Test
  void minusSubtractsCountersAndKeepsGauges() {
    KernelCounters now = KernelCounters.read(ProcFixtures.root("proc-default"));
    KernelCounters earlier = KernelCounters.builder().timeWait(99).inUse(99).orphans(99)
        .activeOpens(2).attemptFails(0).estabResets(0).outRsts(0).twEntered(4).twRecycled(0)
        .twKilled(0).timeWaitOverflow(0).abortOnData(0).build();

    KernelCounters delta = now.minus(earlier);

    assertThat(delta.timeWait()).isEqualTo(10);
    assertThat(delta.inUse()).isEqualTo(6);
    assertThat(delta.activeOpens()).isEqualTo(10);
    assertThat(delta.twEntered()).isEqualTo(6);
    assertThat(delta.abortOnClose()).isEqualTo(KernelCounters.UNKNOWN);
    assertThatThrownBy(() -> now.minus(null))
        .isInstanceOf(NullPointerException.class).hasMessage("earlier cannot be null");
  }

  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void liveCountersSeeOurTimeWaitAndOurResets() throws Exception {
    KernelTcp.assumeReadable();
    int connections = 100;
    KernelCounters before = KernelCounters.read();
    try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
      int port = peer.ports().get(0);
      assertThat(peer.run(connections, Duration.ofSeconds(30))).isEqualTo(connections);
      KernelTcp.awaitClientSettled(port, Duration.ofSeconds(5));
      int ours = KernelTcp.clientTimeWait(port);
      assertThat(ours).isBetween(peer.leastTimeWait(port), peer.distinctTuples(port));

      KernelCounters after = KernelCounters.read();
      // other processes share the namespace: ours are a lower bound
      assertThat(after.timeWait()).isGreaterThanOrEqualTo(ours);
      assertThat(KernelCounters.systemTimeWait()).isGreaterThanOrEqualTo(ours);
      KernelCounters delta = after.minus(before);
      assertThat(delta.activeOpens()).isGreaterThanOrEqualTo(connections);
      assertThat(delta.twEntered()).isGreaterThanOrEqualTo(connections);
    }

    KernelCounters beforeResets = KernelCounters.read();
    int resets = 20;
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      for (int i = 0; i < resets; i++) {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket accepted = server.accept()) {
          client.setSoLinger(true, 0); // close() sends an RST
          client.close();
          InputStream in = accepted.getInputStream();
          accepted.setSoTimeout(2_000);
          try {
            in.read();
          } catch (IOException expected) {
            // connection reset
          }
        }
      }
    }
    KernelCounters delta = KernelCounters.read().minus(beforeResets);
    assertThat(delta.abortOnData()).isGreaterThanOrEqualTo(resets);
    assertThat(delta.outRsts()).isGreaterThanOrEqualTo(resets);
    assertThat(delta.estabResets()).isGreaterThanOrEqualTo(resets);
  }
}
