package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.testing.KernelTcp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DemoTest {

  @Test
  void demoTableShowsClientTimeWaitForNaiveRunsAndNoneForTimewaitStrategies() {
    KernelTcp.assumeReadable();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int code = TimeWaitLoad.execute(new PrintWriter(out), new PrintWriter(err),
        "demo", "--requests", "30", "--concurrency", "2");

    assertThat(code).as(out + "\n" + err).isZero();
    List<String> lines = out.toString().lines().toList();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("client ")).findFirst().orElseThrow());
    List<String[]> rows = lines.subList(header + 2, header + 18).stream()
        .map(line -> line.trim().split("\\s+"))
        .toList();
    assertThat(rows).as(out.toString()).hasSize(16);
    for (String[] row : rows) {
      int clientTimeWait = Integer.parseInt(row[8]);
      if (row[1].equals("naive")) {
        assertThat(clientTimeWait).as(String.join(" ", row)).isGreaterThanOrEqualTo(27);
      } else {
        assertThat(clientTimeWait).as(String.join(" ", row)).isZero();
      }
    }
  }

  @ParameterizedTest(name = "--requests {0}")
  @CsvSource(delimiter = '|', value = {
    "-1         | --requests must be > 0, but was -1",
    // Before: no upper bound, and 2,000,000,000 allocated a latency array per run (OutOfMemoryError).
    "2000000000 | --requests must be <= 10000000, but was 2000000000",
  })
  void demoRejectsBadNumbersWithExitTwo(String requests, String reason) {
    StringWriter err = new StringWriter();

    int code = TimeWaitLoad.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
        "demo", "--requests", requests);

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith(reason).doesNotContain("\tat ");
  }
}
