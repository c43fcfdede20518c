package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpTableMultiFilterTest {

  @Test
  void oneScanWithSeveralFiltersCountsAsOneScanPerFilter() throws Exception {
    TcpTable table = ProcFixtures.table("proc-default");
    List<TcpFilter> filters = List.of(
        TcpFilter.remote(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080)),
        TcpFilter.remote(new InetSocketAddress(InetAddress.getByName("::1"), 8443)),
        TcpFilter.remotePort(8443),
        TcpFilter.localPort(8080),
        TcpFilter.any());

    List<TcpCounts> together = table.count(filters);

    assertThat(together).hasSize(filters.size());
    for (int i = 0; i < filters.size(); i++) {
      assertThat(together.get(i).asMap()).isEqualTo(table.count(filters.get(i)).asMap());
    }
    assertThat(together.get(2).timeWait()).isEqualTo(5);
    assertThat(together.get(4).total()).isEqualTo(16);
  }

  @Test
  void aThreadWithItsInterruptFlagSetStillReadsTheTablesAndKeepsTheFlag() {
    // A metrics scrape may run on a thread whose interrupt flag is set (the sampler sets it again
    // after an interrupted lookup). Were the tables read through an interruptible channel, the
    // read would fail (ClosedByInterruptException) and every gauge read NaN for a whole sample:
    // the JDK's Files.newInputStream is not interruptible (checked on JDK 17 and 25); this keeps
    // it so.
    TcpTable table = ProcFixtures.table("proc-default");
    Thread.currentThread().interrupt();
    try {
      TcpCounts counts = table.count(TcpFilter.remotePort(8443));
      assertThat(counts.supported()).as("%s", counts.unsupportedReason()).isTrue();
      assertThat(counts.timeWait()).isEqualTo(5);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void unreadableTablesGiveOneUnsupportedCountPerFilter() {
    List<TcpCounts> counts = TcpTable.of(Path.of("/nonexistent/tcp"))
        .count(List.of(TcpFilter.any(), TcpFilter.remotePort(80)));
    assertThat(counts).hasSize(2).allSatisfy(c -> assertThat(c.supported()).isFalse());
  }

  @Test
  void invalidFilterListsAreRejected() {
    TcpTable table = ProcFixtures.table("proc-default");
    assertThatThrownBy(() -> table.count(List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("filters must not be empty");
    assertThatThrownBy(() -> table.count((List<TcpFilter>) null))
        .isInstanceOf(NullPointerException.class).hasMessage("filters cannot be null");
    assertThatThrownBy(() -> table.count(java.util.Arrays.asList(TcpFilter.any(), null)))
        .isInstanceOf(NullPointerException.class).hasMessage("filter cannot be null");
  }

  @Test
  void eachAddressWordIsReadInTheHostsByteOrder() {
    // The kernel prints 127.0.0.1 as 0100007F on little-endian CPUs and 7F000001 on big-endian
    // ones (s390x, a Java 17 platform): read as little-endian there, no address matched. This
    // machine runs one path; the mapping of both is checked here.
    int[] little = new int[4];
    int[] big = new int[4];
    for (int i = 0; i < 4; i++) {
      little[i] = TcpTable.byteOfWord(i, true);
      big[i] = TcpTable.byteOfWord(i, false);
    }
    org.assertj.core.api.Assertions.assertThat(little).containsExactly(3, 2, 1, 0);
    org.assertj.core.api.Assertions.assertThat(big).containsExactly(0, 1, 2, 3);
  }

  @Test
  void socketsAreListedOnceEachWithTheirAddressesAndState(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    TcpTable table = ProcFixtures.table("proc-default");
    java.util.Set<TcpState> timeWait = java.util.EnumSet.of(TcpState.TIME_WAIT);
    java.util.Set<TcpSocket> v6 = table.sockets(
        TcpFilter.remote(new InetSocketAddress(InetAddress.getByName("::1"), 8443)), timeWait);
    assertThat(v6).hasSize(3).allSatisfy(s -> {
      assertThat(s.remote().getAddress()).isInstanceOf(java.net.Inet6Address.class);
      assertThat(s.remote().getPort()).isEqualTo(8443);
      assertThat(s.state()).isEqualTo(TcpState.TIME_WAIT);
    });
    // IPv4-mapped rows of tcp6 are IPv4 sockets of a dual-stack JVM: IPv4 addresses.
    assertThat(table.sockets(TcpFilter.remote(new InetSocketAddress("127.0.0.1", 8443)), timeWait))
        .hasSize(2).allSatisfy(s -> assertThat(s.local().getAddress()).isInstanceOf(java.net.Inet4Address.class));
    assertThat(table.sockets(TcpFilter.remotePort(8080), java.util.EnumSet.of(TcpState.ESTABLISHED)))
        .allSatisfy(s -> assertThat(s.state()).isEqualTo(TcpState.ESTABLISHED));

    // A scan that lists a row twice (the table changing under it) lists the socket once.
    Path twice = dir.resolve("tcp");
    String row = "   0: 0100007F:9C41 0100007F:1F99 06 00000000:00000000 03:00000FA0 00000000     0        0 0 3 0000000000000000\n";
    java.nio.file.Files.writeString(twice, "  sl  local_address rem_address   st\n" + row + row);
    assertThat(TcpTable.of(twice).sockets(TcpFilter.remotePort(8089), timeWait)).singleElement()
        .isEqualTo(new TcpSocket(new InetSocketAddress("127.0.0.1", 40001),
            new InetSocketAddress("127.0.0.1", 8089), TcpState.TIME_WAIT));
  }
}
