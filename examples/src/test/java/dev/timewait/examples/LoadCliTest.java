package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.timewait.TcpTable;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.TestTls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The load CLI's contract: exit codes, messages, and the --json line. */
class LoadCliTest {
  static final List<String> JSON_FIELDS = List.of("client", "strategy", "requests", "errors", "firstError",
      "durationMs", "requestsPerSecond", "p50Ms", "p99Ms", "connectionsOpened", "closedAfterPeerFin",
      "closedByReset", "closedLocallyFirst", "finWaitTimeouts", "clientTimeWait", "serverTimeWait",
      "clientTimeWaitBefore", "serverTimeWaitBefore");

  @RegisterExtension
  WireMockExtension server = WireMockExtension.newInstance()
      .options(wireMockConfig()
          .bindAddress("127.0.0.1")
          .dynamicPort()
          .dynamicHttpsPort()
          .keystorePath(TestTls.get().keyStorePath().toString())
          .keystorePassword(TestTls.PASSWORD)
          .keyManagerPassword(TestTls.PASSWORD)
          .keystoreType("PKCS12"))
      .build();

  @BeforeEach
  void stub() {
    server.stubFor(get("/hello").willReturn(ok("hello")));
  }

  /** One run of the CLI, in this JVM. */
  record Run(int exitCode, String out, String err) {
    String lastLine() {
      String[] lines = out.strip().split("\\R");
      return lines[lines.length - 1];
    }

    JsonNode json() throws Exception {
      return new ObjectMapper().readTree(lastLine());
    }
  }

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = TimeWaitLoad.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  String url() {
    return "http://127.0.0.1:" + server.getPort() + "/hello";
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', value = {
    "load --url ht!tp://nope                                | --url is not a valid URL",
    "load --url ftp://127.0.0.1/                            | --url must be an http or https URL, but was ftp://127.0.0.1/",
    "load --url http:///path                                | --url must name a host",
    "load                                                   | Missing required option: '--url=URL'",
    "load --url http://127.0.0.1:1/ --requests -3           | --requests must be > 0, but was -3",
    "load --url http://127.0.0.1:1/ --requests 0            | --requests must be > 0, but was 0",
    "load --url http://127.0.0.1:1/ --requests many         | Invalid value for option '--requests': 'many' is not an int",
    "load --url http://127.0.0.1:1/ --concurrency -1        | --concurrency must be > 0, but was -1",
    "load --url http://127.0.0.1:1/ --duration 0            | --duration must be > 0, but was 0",
    "load --url http://127.0.0.1:1/ --client curl           | --client must be one of hc5, hc5-async, okhttp, but was curl",
    "load --url http://127.0.0.1:1/ --strategy linger       | --strategy must be one of naive, server-close, reset, pooled, but was linger",
    "load --url http://127.0.0.1:1/ --strategy reset --max-connections 4 | --max-connections and --max-requests-per-connection apply to --strategy pooled, not reset",
    "load --url http://127.0.0.1:1/ --strategy pooled --max-connections -4 | --max-connections must be > 0, but was -4",
    "load --url http://127.0.0.1:1/ --strategy server-close --fin-timeout 61000 | --fin-timeout must be <= 60000, but was 61000",
    "load --url http://127.0.0.1:1/ --requests 10000001     | --requests must be <= 10000000, but was 10000001",
    "load --url http://127.0.0.1:1/ --strategy reset --fin-timeout 100 | --fin-timeout applies to --strategy server-close or pooled, not reset",
    "load --url https://127.0.0.1:1/ --truststore /no/such/store.p12 --truststore-password x | --truststore file not found: /no/such/store.p12",
    "''                                                     | Missing a command",
  })
  void badArgumentsExitTwoWithAOneLineReasonAndTheUsageButNoStackTrace(String args, String reason) {
    Run run = cli(args.isEmpty() ? new String[0] : args.trim().split("\\s+"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).startsWith(reason);
    assertThat(run.err()).contains("Usage: timewait-load").doesNotContain("\tat ");
    assertThat(run.out()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "load --url http://127.0.0.1:1/ --bogus | Unknown option: '--bogus'                  | timewait-load load",
    "load --url http://127.0.0.1:1/ --jsn   | Unknown option: '--jsn'                    | timewait-load load",
    "--bogus                                | Unknown option: '--bogus'                  | timewait-load",
    "frobnicate                             | Unmatched argument at index 0: 'frobnicate' | timewait-load",
  })
  void unknownOptionIsNamedAndPointsToHelpWithoutReprintingTheUsage(String args, String reason, String command) {
    Run run = cli(args.trim().split("\\s+"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).isEqualTo(reason);
    // A typo gets its one line (and picocli's close matches), not a screenful of usage.
    assertThat(run.err()).doesNotContain("Usage:").doesNotContain("\tat ")
        .endsWith("Run '" + command + " --help' for the options." + System.lineSeparator());
    assertThat(run.out()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"--version", "-V", "load --version", "doctor --version", "demo --version"})
  void versionPrintsTheProjectVersion(String args) {
    // Set by examples/pom.xml from ${project.version}: the same source the filtered resource has.
    String expected = System.getProperty("timewait.expectedVersion");
    assertThat(expected).as("surefire passes timewait.expectedVersion").isNotBlank();

    Run run = cli(args.split(" "));

    assertThat(run.exitCode()).isZero();
    assertThat(run.out().strip()).isEqualTo("timewait-load " + expected);
    assertThat(run.err()).isEmpty();
  }

  @Test
  void unreadableTruststoreExitsTwo() throws Exception {
    java.nio.file.Path notAStore = java.nio.file.Files.createTempFile("not-a-store", ".p12");
    java.nio.file.Files.writeString(notAStore, "not PKCS12");
    try {
      Run run = cli("load", "--url", "https://127.0.0.1:1/", "--truststore", notAStore.toString(),
          "--truststore-password", "x");

      assertThat(run.exitCode()).isEqualTo(2);
      assertThat(run.err()).startsWith("--truststore cannot be read as PKCS12").doesNotContain("\tat ");
    } finally {
      java.nio.file.Files.delete(notAStore);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp"})
  void unreachableHostIsARequestErrorAndExitsOne(String client) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }

    Run run = cli("load", "--url", "http://127.0.0.1:" + closedPort + "/", "--client", client,
        "--strategy", "reset", "--requests", "3", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).isEqualTo(1);
    JsonNode json = run.json();
    assertThat(json.get("requests").asLong()).isEqualTo(3);
    assertThat(json.get("errors").asLong()).isEqualTo(3);
    assertThat(json.get("firstError").asText()).contains("Connect").contains("refused");
    assertThat(run.err()).doesNotContain("\tat ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp"})
  void unresolvableHostIsARequestErrorAndExitsOneWithoutAStackTrace(String client) throws Exception {
    Run run = cli("load", "--url", "http://does-not-exist.invalid/", "--client", client,
        "--strategy", "server-close", "--requests", "2", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).isEqualTo(1);
    JsonNode json = run.json();
    assertThat(json.get("errors").asLong()).isEqualTo(2);
    assertThat(json.get("firstError").asText()).contains("does-not-exist.invalid");
    assertThat(run.err()).doesNotContain("\tat ");
    assertThat(run.out()).doesNotContain("\tat ");
    // The TIME_WAIT line gives the real reason there is no count, not a missing /proc/net/tcp.
    assertThat(run.out()).contains("TIME_WAIT     n/a: host does-not-exist.invalid could not be resolved")
        .doesNotContain("no /proc/net/tcp");
  }

  @Test
  void jsonRunPrintsEveryFieldOnTheLastLine() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset",
        "--requests", "50", "--concurrency", "4", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.fieldNames()).toIterable().containsExactlyElementsOf(JSON_FIELDS);
    assertThat(json.get("client").asText()).isEqualTo("okhttp");
    assertThat(json.get("strategy").asText()).isEqualTo("reset");
    assertThat(json.get("requests").asLong()).isEqualTo(50);
    assertThat(json.get("errors").asLong()).isZero();
    assertThat(json.get("firstError").isNull()).isTrue();
    assertThat(json.get("p50Ms").asDouble()).isPositive();
    assertThat(json.get("p99Ms").asDouble()).isGreaterThanOrEqualTo(json.get("p50Ms").asDouble());
    assertThat(json.get("connectionsOpened").asLong()).isEqualTo(50);
    assertThat(run.out()).contains("requests      50 in");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp"})
  void naiveRunLeavesClientTimeWaitForAboutEveryRequest(String client) throws Exception {
    KernelTcp.assumeReadable();

    Run run = cli("load", "--url", url(), "--client", client, "--requests", "40", "--concurrency", "2", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    // The control: the CLI's kernel count sees the TIME_WAIT that naive clients leave.
    assertThat(run.json().get("clientTimeWait").asInt()).isGreaterThanOrEqualTo(36);
    assertThat(run.json().get("serverTimeWait").isNumber()).isTrue();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "hc5, server-close", "hc5, reset", "hc5, pooled",
    "hc5-async, server-close", "hc5-async, reset", "hc5-async, pooled",
    "okhttp, server-close", "okhttp, reset", "okhttp, pooled",
  })
  void strategiesLeaveNoClientTimeWait(String client, String strategy) throws Exception {
    KernelTcp.assumeReadable();

    Run run = cli("load", "--url", url(), "--client", client, "--strategy", strategy, "--requests", "200",
        "--concurrency", "4", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.json().get("clientTimeWait").asInt()).as(run.out()).isZero();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "hc5, naive", "hc5, server-close", "hc5-async, naive", "hc5-async, server-close",
    "okhttp, naive", "okhttp, server-close",
  })
  void httpsWithATruststoreWorks(String client, String strategy) throws Exception {
    Run run = cli("load", "--url", "https://localhost:" + server.getHttpsPort() + "/hello", "--client", client,
        "--strategy", strategy, "--requests", "20", "--concurrency", "2", "--json",
        "--truststore", TestTls.get().keyStorePath().toString(), "--truststore-password", TestTls.PASSWORD);

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.json().get("errors").asLong()).isZero();
    if (!strategy.equals("naive") && TcpTable.system().isSupported()) {
      assertThat(run.json().get("clientTimeWait").asInt()).as(run.out()).isZero();
    }
  }

  @Test
  void aRunCountsTheTimeWaitAnEarlierRunLeftAsItsBaselineAndReportsWhatItAdded() throws Exception {
    KernelTcp.assumeReadable();
    Run first = cli("load", "--url", url(), "--client", "okhttp", "--requests", "30", "--concurrency", "2", "--json");
    Run second = cli("load", "--url", url(), "--client", "okhttp", "--requests", "30", "--concurrency", "2");

    assertThat(first.exitCode()).as(first.out() + first.err()).isZero();
    assertThat(second.exitCode()).as(second.out() + second.err()).isZero();
    int left = first.json().get("clientTimeWait").asInt();
    assertThat(left).isGreaterThanOrEqualTo(27);
    // The second run starts from what the first left (a few may be taken over by port reuse),
    // and its summary shows the count after, what it added, and the baseline.
    assertThat(second.err()).containsPattern("TIME_WAIT before the run: client (\\d+), server \\d+ \\(kernel table\\)");
    java.util.regex.Matcher before = java.util.regex.Pattern
        .compile("TIME_WAIT before the run: client (\\d+)").matcher(second.err());
    assertThat(before.find()).isTrue();
    assertThat(Integer.parseInt(before.group(1))).isBetween(left - 3, left + 3);
    assertThat(second.out()).containsPattern("TIME_WAIT     client \\d+ \\(\\+\\d+\\), server \\d+ \\([+-]\\d+\\)")
        .contains("before the run: client " + before.group(1));
  }

  @Test
  void progressGoesToStderrAboutOnceASecondUnlessQuietOrJsonForATool() {
    Run shown = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "1000000",
        "--duration", "2");
    Run quiet = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "20",
        "--quiet");
    Run json = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "20",
        "--json");

    assertThat(shown.exitCode()).as(shown.out() + shown.err()).isZero();
    long progressLines = shown.err().lines().filter(l -> l.matches("\\[\\s*\\d+ s\\] .* requests, \\d+ errors, .*")).count();
    // A 2 s run: a line at 1 s and perhaps at 2 s, never one per request.
    assertThat(progressLines).as(shown.err()).isBetween(1L, 3L);
    assertThat(shown.out()).as("progress stays off stdout").doesNotContain("req/s, client");
    assertThat(quiet.err()).as("--quiet").isEmpty();
    // Tests run without a terminal, as a tool that reads --json does.
    assertThat(json.err()).as("--json, no terminal").isEmpty();
  }

  @Test
  void durationStopsTheLoadBeforeTheRequestCount() {
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "1000000",
        "--duration", "1", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("\"errors\":0");
  }
}
