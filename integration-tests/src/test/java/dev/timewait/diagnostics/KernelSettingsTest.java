package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelSettingsTest {

  @Test
  void readsTheDefaultsOfARealKernelNamespace() {
    KernelSettings s = KernelSettings.read(ProcFixtures.root("proc-default"));

    assertThat(s.supported()).isTrue();
    assertThat(s.unsupportedReason()).isEmpty();
    assertThat(s.localPortRange()).isEqualTo(new PortRange(32768, 60999));
    assertThat(s.reservedPorts()).isEmpty();
    assertThat(s.usablePorts()).isEqualTo(28232);
    assertThat(s.twReuse()).isEqualTo(TwReuse.LOOPBACK_ONLY);
    assertThat(s.timestamps()).isEqualTo(TcpTimestamps.ON);
    assertThat(s.finTimeoutSeconds()).isEqualTo(60);
    assertThat(s.maxTwBuckets()).isEqualTo(131072);
    assertThat(s.twRecycleExists()).isFalse();
    assertThat(s.twReuseDelayMillis()).isEqualTo(1000);
    assertThat(s.maxNewConnectionsPerSecond()).isBetween(470.0, 471.0);
  }

  @Test
  void readsTunedSettingsAndSubtractsReservedPortsInsideTheRange() {
    KernelSettings s = KernelSettings.read(ProcFixtures.root("proc-tuned"));

    assertThat(s.localPortRange()).isEqualTo(new PortRange(40000, 40099));
    assertThat(s.reservedPorts()).containsExactly(new PortRange(40010, 40019), PortRange.of(40050));
    assertThat(s.usablePorts()).isEqualTo(100 - 11);
    assertThat(s.twReuse()).isEqualTo(TwReuse.OFF);
    assertThat(s.timestamps()).isEqualTo(TcpTimestamps.OFF);
    assertThat(s.finTimeoutSeconds()).isEqualTo(30);
    assertThat(s.maxTwBuckets()).isEqualTo(4096);
  }

  @Test
  void everySettingHasARowWithItsRawValueAndAnExplanation() {
    KernelSettings s = KernelSettings.read(ProcFixtures.root("proc-default"));

    assertThat(s.settings()).extracting(KernelSetting::name).containsExactly(
        "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_tw_reuse_delay", "net.ipv4.tcp_tw_recycle");
    assertThat(s.setting("ip_local_port_range")).hasValueSatisfying(r -> {
      assertThat(r.value()).isEqualTo("32768 60999");
      assertThat(r.explanation()).contains("28232 ephemeral ports").contains("= 471 new connections per second");
    });
    assertThat(s.setting("net.ipv4.tcp_tw_reuse").orElseThrow().describe())
        .isEqualTo("net.ipv4.tcp_tw_reuse = 2: " + TwReuse.LOOPBACK_ONLY.describe());
    assertThat(s.setting("tcp_fin_timeout").orElseThrow().explanation())
        .contains("NOT the length of TIME_WAIT").contains("fixed at 60 s (TCP_TIMEWAIT_LEN)");
    KernelSetting recycle = s.setting("tcp_tw_recycle").orElseThrow();
    assertThat(recycle.present()).isFalse();
    assertThat(recycle.describe()).startsWith("net.ipv4.tcp_tw_recycle (absent): removed in Linux 4.12");
    assertThat(s.setting("ip_local_reserved_ports").orElseThrow().describe()).isEqualTo(
        "net.ipv4.ip_local_reserved_ports = (empty): no ports reserved: all 28232 ephemeral ports are usable");
    assertThat(s.describe()).hasLineCount(8);
  }

  @Test
  void anOldKernelWithTcpTwRecycleIsReported(@TempDir Path tmp) throws IOException {
    Path root = copy(ProcFixtures.root("proc-default"), tmp);
    Files.writeString(root.resolve("sys/net/ipv4/tcp_tw_recycle"), "0\n");
    Files.delete(root.resolve("sys/net/ipv4/tcp_tw_reuse_delay"));

    KernelSettings s = KernelSettings.read(root);

    assertThat(s.twRecycleExists()).isTrue();
    assertThat(s.setting("tcp_tw_recycle").orElseThrow().explanation()).contains("older than 4.12");
    assertThat(s.twReuseDelayMillis()).isEqualTo(KernelSettings.UNKNOWN);
    assertThat(s.setting("tcp_tw_reuse_delay").orElseThrow().explanation()).contains("more than 1 s old");
  }

  @Test
  void unknownValuesAreReportedAsUnknownNotThrown(@TempDir Path tmp) throws IOException {
    Path root = copy(ProcFixtures.root("proc-default"), tmp);
    Files.writeString(root.resolve("sys/net/ipv4/tcp_tw_reuse"), "7\n");
    Files.delete(root.resolve("sys/net/ipv4/tcp_timestamps"));
    Files.writeString(root.resolve("sys/net/ipv4/ip_local_reserved_ports"), "garbage\n");

    KernelSettings s = KernelSettings.read(root);

    assertThat(s.supported()).isTrue();
    assertThat(s.twReuse()).isEqualTo(TwReuse.UNKNOWN);
    assertThat(s.timestamps()).isEqualTo(TcpTimestamps.UNKNOWN);
    assertThat(s.setting("tcp_timestamps").orElseThrow().present()).isFalse();
    assertThat(s.reservedPorts()).isEmpty();
  }

  @Test
  void missingFilesAreUnsupportedOnThisOsNotAnException() {
    KernelSettings s = KernelSettings.read(Path.of("/nonexistent/proc"));

    assertThat(s.supported()).isFalse();
    assertThat(s.unsupportedReason()).startsWith("unsupported on this OS");
    assertThat(s.localPortRange()).isNull();
    assertThat(s.usablePorts()).isEqualTo(KernelSettings.UNKNOWN);
    assertThat(s.twReuse()).isEqualTo(TwReuse.UNKNOWN);
    assertThat(s.maxNewConnectionsPerSecond()).isEqualTo(KernelSettings.UNKNOWN);
    assertThat(s.describe()).startsWith("unsupported on this OS");
  }

  @Test
  void readsTheLiveKernelAsTheFilesSay() throws IOException {
    KernelTcp.assumeReadable();
    Path dir = Path.of("/proc/sys/net/ipv4");
    KernelSettings s = KernelSettings.read();

    assertThat(s.supported()).isTrue();
    String[] range = sysctl(dir.resolve("ip_local_port_range")).trim().split("\\s+");
    assertThat(s.localPortRange())
        .isEqualTo(new PortRange(Integer.parseInt(range[0]), Integer.parseInt(range[1])));
    assertThat(s.twReuse().code())
        .isEqualTo(Integer.parseInt(sysctl(dir.resolve("tcp_tw_reuse")).trim()));
    assertThat(s.timestamps().code())
        .isEqualTo(Integer.parseInt(sysctl(dir.resolve("tcp_timestamps")).trim()));
    assertThat(s.maxTwBuckets())
        .isEqualTo(Integer.parseInt(sysctl(dir.resolve("tcp_max_tw_buckets")).trim()));
    assertThat(s.twRecycleExists()).isEqualTo(Files.exists(dir.resolve("tcp_tw_recycle")));
    assertThat(s.usablePorts()).isPositive().isLessThanOrEqualTo(s.localPortRange().size());
  }

  @Test
  void twReuseAppliesOnlyWhereTheSettingCoversTheDestinationAndTimestampsAreOn() throws Exception {
    KernelSettings defaults = KernelSettings.read(ProcFixtures.root("proc-default"));
    KernelSettings tuned = KernelSettings.read(ProcFixtures.root("proc-tuned"));
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    InetAddress mappedLoopback = InetAddress.getByName("::1");
    InetAddress remote = InetAddress.getByName("10.0.0.7");

    assertThat(defaults.twReuseAppliesTo(loopback)).isTrue();
    assertThat(defaults.twReuseAppliesTo(mappedLoopback)).isTrue();
    assertThat(defaults.twReuseAppliesTo(remote)).isFalse();
    assertThat(tuned.twReuseAppliesTo(loopback)).isFalse();
  }

  @Test
  void portRangesParseAsTheKernelPrintsThem() {
    assertThat(PortRange.parse("32768\t60999")).isEqualTo(new PortRange(32768, 60999));
    assertThat(PortRange.parse("9000-9099").size()).isEqualTo(100);
    assertThat(PortRange.parse(" 8080 ")).isEqualTo(PortRange.of(8080));
    assertThat(PortRange.parseList("8080,9000-9099\n")).containsExactly(
        PortRange.of(8080), new PortRange(9000, 9099));
    assertThat(PortRange.parseList("")).isEmpty();
    assertThat(PortRange.countIn(new PortRange(9050, 9200),
        List.of(new PortRange(9000, 9099), new PortRange(9090, 9110), PortRange.of(1))))
        .isEqualTo(61);
    assertThat(new PortRange(32768, 60999)).hasToString("32768-60999");
    assertThat(PortRange.of(8080)).hasToString("8080");
  }

  @Test
  void invalidPortRangesAreRejectedWithTheValue() {
    assertThatThrownBy(() -> new PortRange(100, 99))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("high must be >= low (100), but was 99");
    assertThatThrownBy(() -> new PortRange(-1, 99))
        .hasMessage("low must be between 0 and 65535, but was -1");
    assertThatThrownBy(() -> PortRange.of(70000))
        .hasMessage("low must be between 0 and 65535, but was 70000");
    assertThatThrownBy(() -> PortRange.parse("80-x"))
        .hasMessage("port range must be like 8080, 9000-9099 or \"32768 60999\", but was \"80-x\"");
    assertThatThrownBy(() -> PortRange.parseList(null))
        .isInstanceOf(NullPointerException.class).hasMessage("text cannot be null");
    assertThatThrownBy(() -> KernelSettings.read(null))
        .isInstanceOf(NullPointerException.class).hasMessage("procRoot cannot be null");
  }

  /** A /proc/sys file as text: one read from offset 0, as the handlers need (not Files.readString). */
  private static String sysctl(Path file) throws IOException {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
    return to;
  }
}
