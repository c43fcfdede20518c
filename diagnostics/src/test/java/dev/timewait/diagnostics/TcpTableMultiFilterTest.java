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
}
