package dev.timewait.diagnostics;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The {@code /proc} snapshots under {@code src/test/resources/fixtures}, captured from a real
 * kernel (Linux 6.18) in a private network namespace by {@code src/test/fixture-capture/capture_proc.py}:
 * {@code proc-default} with the namespace's default settings, {@code proc-tuned} with
 * {@code ip_local_port_range=40000 40099}, {@code ip_local_reserved_ports=40010-40019,40050},
 * {@code tcp_tw_reuse=0}, {@code tcp_timestamps=0}, {@code tcp_max_tw_buckets=4096} and
 * {@code tcp_fin_timeout=30}. Each holds 5 IPv4 client TIME_WAIT to 127.0.0.1:8080 plus one
 * open connection, 3 IPv6 client TIME_WAIT to [::1]:8443 plus one open connection, and 2
 * IPv4-mapped client TIME_WAIT to ::ffff:127.0.0.1:8443.
 */
final class ProcFixtures {
  private ProcFixtures() {}

  static Path root(String name) {
    try {
      return Path.of(ProcFixtures.class.getResource("/fixtures/" + name + "/net/sockstat").toURI())
          .getParent().getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static TcpTable table(String name) {
    Path root = root(name);
    return TcpTable.of(root.resolve("net/tcp"), root.resolve("net/tcp6"));
  }
}
