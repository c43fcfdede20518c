package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.testing.ClientClosesFirst;
import dev.timewait.testing.KernelTcp;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PortBudgetTest {
  private static InetSocketAddress at(String ip, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(ip), port);
  }

  @Test
  void budgetTowardsAnIpv4DestinationSubtractsReservedPortsAndHeldSockets() throws Exception {
    PortBudget b = PortBudget.of(at("127.0.0.1", 8080),
        KernelSettings.read(ProcFixtures.root("proc-tuned")), ProcFixtures.table("proc-tuned"));

    assertThat(b.supported()).isTrue();
    assertThat(b.localPortRange()).isEqualTo(new PortRange(40000, 40099));
    assertThat(b.reservedInRange()).isEqualTo(11);
    assertThat(b.usablePorts()).isEqualTo(89);
    assertThat(b.sockets()).isEqualTo(Map.of(TcpState.TIME_WAIT, 5, TcpState.ESTABLISHED, 1));
    assertThat(b.timeWait()).isEqualTo(5);
    assertThat(b.holdingPorts()).isEqualTo(6);
    assertThat(b.headroom()).isEqualTo(83);
    assertThat(b.sustainableNewConnectionsPerSecond()).isEqualTo(89 / 60.0);
    assertThat(b.twReuseMayApply()).isFalse();
    assertThat(b.timeWaitShare()).isEqualTo(5 / 89.0);
    assertThat(b.describe())
        .contains("port budget towards 127.0.0.1:8080")
        .contains("usable ports: 89 (range 40000-40099, 11 reserved in it)")
        .contains("headroom: 83 ports");
  }

  @Test
  void budgetTowardsIpv6AndIpv4MappedDestinationsCountsTheirOwnSockets() throws Exception {
    KernelSettings settings = KernelSettings.read(ProcFixtures.root("proc-default"));
    TcpTable table = ProcFixtures.table("proc-default");

    PortBudget v6 = PortBudget.of(at("::1", 8443), settings, table);
    assertThat(v6.timeWait()).isEqualTo(3);
    assertThat(v6.holdingPorts()).isEqualTo(4);
    assertThat(v6.headroom()).isEqualTo(28232 - 4);
    assertThat(v6.twReuseMayApply()).isTrue(); // tcp_tw_reuse=2 and loopback

    PortBudget mapped = PortBudget.of(at("127.0.0.1", 8443), settings, table);
    assertThat(mapped.timeWait()).isEqualTo(2);
    assertThat(mapped.holdingPorts()).isEqualTo(2);
  }

  @Test
  void unreadableKernelGivesAnUnsupportedBudgetNotAnException() throws Exception {
    PortBudget b = PortBudget.of(at("10.0.0.7", 443),
        KernelSettings.read(Path.of("/nonexistent")), TcpTable.of(Path.of("/nonexistent/tcp")));

    assertThat(b.supported()).isFalse();
    assertThat(b.unsupportedReason()).startsWith("unsupported on this OS");
    assertThat(b.headroom()).isZero();
    assertThat(b.timeWaitShare()).isZero();
    assertThat(b.describe()).isEqualTo("port budget towards 10.0.0.7:443: " + b.unsupportedReason());

    PortBudget noTable = PortBudget.of(at("10.0.0.7", 443),
        KernelSettings.read(ProcFixtures.root("proc-default")), TcpTable.of(Path.of("/nonexistent/tcp")));
    assertThat(noTable.supported()).isFalse();
    assertThat(noTable.unsupportedReason()).startsWith("unsupported on this OS");
  }

  @Test
  void invalidDestinationsAreRejectedWithTheValue() {
    KernelSettings settings = KernelSettings.read(ProcFixtures.root("proc-default"));
    TcpTable table = ProcFixtures.table("proc-default");
    assertThatThrownBy(() -> PortBudget.of(null, settings, table))
        .isInstanceOf(NullPointerException.class).hasMessage("destination cannot be null");
    assertThatThrownBy(() -> PortBudget.of(InetSocketAddress.createUnresolved("example.invalid", 80), settings, table))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("remote must be resolved, but was example.invalid/<unresolved>:80");
    assertThatThrownBy(() -> PortBudget.of(at("127.0.0.1", 0), settings, table))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("remotePort must be between 1 and 65535, but was 0");
  }

  @Test
  void liveBudgetCountsTheTimeWaitThisJvmLeftTowardsALocalServer() throws Exception {
    KernelTcp.assumeReadable();
    int connections = 200;
    try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
      assertThat(peer.run(connections, Duration.ofSeconds(30))).isEqualTo(connections);
      KernelTcp.awaitClientSettled(peer.ports().get(0), Duration.ofSeconds(5));

      PortBudget b = PortBudget.of(peer.destination(0));

      KernelSettings settings = KernelSettings.read();
      assertThat(b.supported()).isTrue();
      int port = peer.ports().get(0);
      assertThat(b.timeWait()).isBetween(peer.leastTimeWait(port), peer.distinctTuples(port));
      assertThat(b.timeWait()).isEqualTo(KernelTcp.clientTimeWait(port));
      assertThat(b.usablePorts()).isEqualTo(settings.usablePorts());
      assertThat(b.headroom()).isEqualTo(settings.usablePorts() - b.holdingPorts());
      assertThat(b.sustainableNewConnectionsPerSecond())
          .isEqualTo(settings.usablePorts() / (double) KernelSettings.TIME_WAIT_SECONDS);
    }
  }
}
