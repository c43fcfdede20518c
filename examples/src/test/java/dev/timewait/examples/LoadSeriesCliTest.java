package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.timewait.diagnostics.TcpTable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What scripts/clb-lab.sh --stage limit (issue 19) reads from the load CLI: the once-a-second series
 * as CSV ({@code --series}), and when the first request failed ({@code firstErrorMs},
 * {@code succeededBeforeFirstError}).
 */
class LoadSeriesCliTest {
  /** Answers 200 to the first {@link #OK_FIRST} requests, then 503. */
  static final int OK_FIRST = 10;

  HttpServer server;
  final AtomicInteger served = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(served.incrementAndGet() <= OK_FIRST ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', value = {
    "load --url http://127.0.0.1:1/ --series run.txt          | --series must name a .csv file, but was run.txt",
    "load --url http://127.0.0.1:1/ --series /no/such/dir/s.csv | --series directory does not exist: /no/such/dir (for --series /no/such/dir/s.csv)",
  })
  void aBadSeriesFileExitsTwoBeforeAnyRequest(String args, String reason) {
    LoadCliTest.Run run = LoadCliTest.cli(args.trim().split("\\s+"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).startsWith(reason);
    assertThat(served).hasValue(0);
  }

  @Test
  void theFirstErrorSaysWhenItCameAndHowManyRequestsHadSucceededBeforeIt() throws Exception {
    LoadCliTest.Run run = LoadCliTest.cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset",
        "--requests", "20", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    JsonNode json = run.json();
    assertThat(json.get("errors").asLong()).isEqualTo(20 - OK_FIRST);
    assertThat(json.get("firstError").asText()).startsWith("HTTP 503 from GET");
    // One worker: the 11th request is the first to fail, after exactly the 10 that succeeded.
    assertThat(json.get("succeededBeforeFirstError").asLong()).isEqualTo(OK_FIRST);
    assertThat(json.get("firstErrorMs").asLong()).isBetween(0L, json.get("durationMs").asLong());
    assertThat(run.out()).contains("after " + OK_FIRST + " successful requests");
  }

  @Test
  void withoutAnErrorBothFieldsAreNull() throws Exception {
    LoadCliTest.Run run = LoadCliTest.cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset",
        "--requests", "5", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.json().get("firstErrorMs").isNull()).isTrue();
    assertThat(run.json().get("succeededBeforeFirstError").isNull()).isTrue();
  }

  @Test
  void seriesWritesEverySampleOfBothRunsWithCumulativeCountsEndingAtTheTotals(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("series.csv");
    LoadCliTest.Run run = LoadCliTest.cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset",
        "--requests", "40", "--concurrency", "2", "--compare-naive", "--series", csv.toString(), "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out()).contains("series        " + csv);
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0)).isEqualTo(SeriesCsv.HEADER);
    List<String[]> reset = rows(lines, "okhttp,reset,");
    List<String[]> naive = rows(lines, "okhttp,naive,");
    assertThat(reset.size() + naive.size()).as("every row is one of the two runs").isEqualTo(lines.size() - 1);
    // The start and the end at least; counts never fall; the last row holds the run's totals:
    // 10 served, then 503 for the rest of the strategy's run and all of naive's.
    for (List<String[]> series : List.of(reset, naive)) {
      assertThat(series.size()).isGreaterThanOrEqualTo(2);
      assertThat(series.get(0)[3]).isEqualTo("0");
      long before = -1;
      for (String[] row : series) {
        assertThat(row).hasSize(8);
        assertThat(Long.parseLong(row[3])).isGreaterThanOrEqualTo(before);
        before = Long.parseLong(row[3]);
      }
      assertThat(series.get(series.size() - 1)[3]).isEqualTo("40");
    }
    assertThat(reset.get(reset.size() - 1)[4]).isEqualTo("30");
    assertThat(naive.get(naive.size() - 1)[4]).isEqualTo("40");
    if (TcpTable.system().isSupported()) {
      // Kernel counts in every row: the client's, and the server's (it is on this host).
      assertThat(reset).allSatisfy(row -> assertThat(row[6]).matches("\\d+"));
      assertThat(reset).allSatisfy(row -> assertThat(row[7]).matches("\\d+"));
    }
  }

  private static List<String[]> rows(List<String> lines, String prefix) {
    // -1: keep the trailing empty cells (a p99 not measured, say) as cells.
    return lines.stream().filter(l -> l.startsWith(prefix)).map(l -> l.split(",", -1)).toList();
  }
}
