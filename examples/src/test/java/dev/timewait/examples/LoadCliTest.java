package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The load CLI's contract: exit codes, messages, and the --json line. */
class LoadCliTest {
  static final List<String> JSON_FIELDS = List.of("client", "strategy", "requests", "errors", "firstError",
      "durationMs", "requestsPerSecond", "p50Ms", "p99Ms", "connectionsOpened", "closedAfterPeerFin",
      "closedByReset", "closedLocallyFirst", "finWaitTimeouts", "clientTimeWait", "serverTimeWait",
      "clientTimeWaitBefore", "serverTimeWaitBefore",
      // Added for issue 14, after the original fields (tooling reads fields by name; none moved).
      "method", "bodySize", "retries", "retirement", "rate", "burst", "idleGapMinMs", "idleGapMaxMs", "seed",
      "startSignal", "startWaitMs", "warmup", "warmupErrors",
      // Added for issue 19's physical-limit run (LoadSeriesCliTest).
      "firstErrorMs", "succeededBeforeFirstError");

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
    "load --url http://admin:hunter2@127.0.0.1:1/           | --url must not carry user info (user:password@): the load sends no credentials",
    "load                                                   | Missing required option: '--url=URL'",
    "load --url http://127.0.0.1:1/ --requests -3           | --requests must be > 0, but was -3",
    "load --url http://127.0.0.1:1/ --requests 0            | --requests must be > 0, but was 0",
    "load --url http://127.0.0.1:1/ --requests many         | Invalid value for option '--requests': 'many' is not an int",
    "load --url http://127.0.0.1:1/ --concurrency -1        | --concurrency must be > 0, but was -1",
    "load --url http://127.0.0.1:1/ --duration 0            | --duration must be > 0, but was 0",
    "load --url http://127.0.0.1:1/ --client curl           | --client must be one of hc5, hc5-async, okhttp, reactor-netty, but was curl",
    "load --url http://127.0.0.1:1/ --strategy linger       | --strategy must be one of naive, server-close, reset, pooled, raw, but was linger",
    "load --url http://127.0.0.1:1/ --strategy reset --max-connections 4 | --max-connections and --max-requests-per-connection apply to --strategy pooled, not reset",
    "load --url http://127.0.0.1:1/ --strategy pooled --max-connections -4 | --max-connections must be 1 to 65535, but was -4",
    "load --url http://127.0.0.1:1/ --strategy pooled --max-connections 70000 | --max-connections must be 1 to 65535, but was 70000",
    "load --url http://127.0.0.1:1/ --strategy server-close --fin-timeout 61000 | --fin-timeout must be <= 60000, but was 61000",
    "load --url http://127.0.0.1:1/ --requests 10000001     | --requests must be <= 10000000, but was 10000001",
    "load --url http://127.0.0.1:1/ --strategy reset --fin-timeout 100 | --fin-timeout applies to --strategy server-close or pooled, not reset",
    "load --url https://127.0.0.1:1/ --truststore /no/such/store.p12 --truststore-password x | --truststore file not found: /no/such/store.p12",
    "''                                                     | Missing a command",
    "load --url http://127.0.0.1:1/ --method PUT            | --method must be GET or POST, but was PUT",
    "load --url http://127.0.0.1:1/ --body-size 10          | --body-size 10 applies to --method POST only: a GET carries no body",
    "load --url http://127.0.0.1:1/ --method GET --body-size 0 | --body-size 0 applies to --method POST only: a GET carries no body",
    "load --url http://127.0.0.1:1/ --method POST --body-size -1 | --body-size must be 0 to 16777216, but was -1",
    "load --url http://127.0.0.1:1/ --method POST --body-size 16777217 | --body-size must be 0 to 16777216, but was 16777217",
    "load --url http://127.0.0.1:1/ --retries maybe         | --retries must be on or off, but was maybe",
    "load --url http://127.0.0.1:1/ --retries ON            | --retries must be on or off, but was ON",
    "load --url http://127.0.0.1:1/ --rate 0                | --rate must be > 0 and <= 1000000 requests per second, but was 0.0",
    "load --url http://127.0.0.1:1/ --rate -5               | --rate must be > 0 and <= 1000000 requests per second, but was -5.0",
    "load --url http://127.0.0.1:1/ --rate NaN              | --rate must be > 0 and <= 1000000 requests per second, but was NaN",
    "load --url http://127.0.0.1:1/ --rate 1000001          | --rate must be > 0 and <= 1000000 requests per second, but was 1000001.0",
    "load --url http://127.0.0.1:1/ --rate fast             | Invalid value for option '--rate': 'fast' is not a double",
    "load --url http://127.0.0.1:1/ --rate 5 --idle-gap 10  | --rate 5.0 and --burst/--idle-gap are two ways to pace requests: give one",
    "load --url http://127.0.0.1:1/ --burst 6               | --burst 6 needs --idle-gap MIN_MS[-MAX_MS]",
    "load --url http://127.0.0.1:1/ --burst 0 --idle-gap 10 | --burst must be 1 to 10000000, but was 0",
    "load --url http://127.0.0.1:1/ --burst 6 --idle-gap 1400-800 | --idle-gap MIN_MS must be <= MAX_MS, but was 1400-800",
    "load --url http://127.0.0.1:1/ --burst 6 --idle-gap 1.5s | --idle-gap must be MIN_MS or MIN_MS-MAX_MS (whole milliseconds, e.g. 800-1400), but was 1.5s",
    "load --url http://127.0.0.1:1/ --burst 6 --idle-gap -5 | --idle-gap must be MIN_MS or MIN_MS-MAX_MS (whole milliseconds, e.g. 800-1400), but was -5",
    "load --url http://127.0.0.1:1/ --burst 6 --idle-gap 800- | --idle-gap must be MIN_MS or MIN_MS-MAX_MS (whole milliseconds, e.g. 800-1400), but was 800-",
    "load --url http://127.0.0.1:1/ --idle-gap 600001       | --idle-gap must be at most 600000 ms, but was 600001",
    "load --url http://127.0.0.1:1/ --seed 7                | --seed 7 applies to --idle-gap only",
    "load --url http://127.0.0.1:1/ --warmup -1             | --warmup must be 0 to 1000, but was -1",
    "load --url http://127.0.0.1:1/ --warmup 1001           | --warmup must be 0 to 1000, but was 1001",
    "load --url http://127.0.0.1:1/ --strategy reset --retirement server-close | --retirement applies to --strategy pooled, not reset",
    "load --url http://127.0.0.1:1/ --strategy pooled --retirement linger | --retirement must be reset or server-close, but was linger",
    "load --url http://127.0.0.1:1/ --strategy raw --max-connections 4 | --max-connections and --max-requests-per-connection apply to --strategy pooled, not raw",
    "load --url http://127.0.0.1:1/ --strategy raw --fin-timeout 100 | --fin-timeout applies to --strategy server-close or pooled, not raw",
    "load --url http://127.0.0.1:1/ --strategy pooled --fin-timeout 100 | --fin-timeout applies to --strategy pooled only with --retirement server-close: a reset retirement waits for no FIN",
    "load --url http://127.0.0.1:1/ --report /no/such/dir/run.html | --report directory does not exist: /no/such/dir (for --report /no/such/dir/run.html)",
    "load --url http://127.0.0.1:1/ --report run.txt        | --report must name an .html file, but was run.txt",
    "load --url http://127.0.0.1:1/ --report /tmp/x.html --compare-naive | --compare-naive runs naive after a strategy: give --strategy server-close, reset, pooled or raw, not naive",
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
  void aTruststoreWhoseCertificatesNeedThePasswordExitsTwoNamingIt() {
    // Without a password the JDK loads a PKCS12 file but skips its encrypted certificates: the trust
    // was empty, and every https request failed as a load error instead of this one line.
    Run run = cli("load", "--url", "https://127.0.0.1:1/", "--truststore", TestTls.get().keyStorePath().toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("--truststore holds no certificate (" + TestTls.get().keyStorePath() + ")")
        .contains("--truststore-password").doesNotContain("\tat ");
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
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp", "reactor-netty"})
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
    "reactor-netty, server-close", "reactor-netty, reset", "reactor-netty, pooled",
  })
  void strategiesLeaveNoClientTimeWait(String client, String strategy) throws Exception {
    KernelTcp.assumeReadable();

    Run run = cli("load", "--url", url(), "--client", client, "--strategy", strategy, "--requests", "200",
        "--concurrency", "4", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertNoClientTimeWaitAdded(run);
  }

  /**
   * Reactor Netty's naive client is a new client per request with no pool. It used to be a pool of
   * its own disposed after each request: reactor-pool's dispose then raced the event loop's release
   * of the connection, and its SimpleDequePool printed "unexpected decrement below 0" straight to
   * System.err (measured: in each of three 2,000-request runs against nginx; this test, a race,
   * failed 2 of 5 runs of that code against WireMock).
   */
  @Test
  void reactorNettyNaiveRunPrintsNothingFromItsPoolToStandardError() throws Exception {
    PrintStream saved = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    Run run;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      run = cli("load", "--url", url(), "--client", "reactor-netty", "--strategy", "naive",
          "--requests", "2500", "--concurrency", "8", "--json", "--quiet");
    } finally {
      System.setErr(saved);
    }

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .doesNotContain("unexpected decrement below 0", "unexpected increment from below 0");
  }

  /**
   * The run added no client TIME_WAIT: the count after it is at most its baseline. WireMock's port
   * is random, and an earlier test's client that closed first may have left TIME_WAIT towards the
   * same port number within the last minute (bind(0) hands a closed server's port out again); the
   * CLI counts that as its baseline, and it can only expire.
   */
  private static void assertNoClientTimeWaitAdded(Run run) throws Exception {
    JsonNode json = run.json();
    assertThat(json.get("clientTimeWait").asInt()).as(run.out())
        .isLessThanOrEqualTo(json.get("clientTimeWaitBefore").asInt());
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "hc5, naive", "hc5, server-close", "hc5-async, naive", "hc5-async, server-close",
    "okhttp, naive", "okhttp, server-close", "reactor-netty, naive", "reactor-netty, server-close",
  })
  void httpsWithATruststoreWorks(String client, String strategy) throws Exception {
    Run run = cli("load", "--url", "https://localhost:" + server.getHttpsPort() + "/hello", "--client", client,
        "--strategy", strategy, "--requests", "20", "--concurrency", "2", "--json",
        "--truststore", TestTls.get().keyStorePath().toString(), "--truststore-password", TestTls.PASSWORD);

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.json().get("errors").asLong()).isZero();
    if (!strategy.equals("naive") && TcpTable.system().isSupported()) {
      assertNoClientTimeWaitAdded(run);
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

  /** The spec the load command makes of {@code args}, without running it. */
  static LoadSpec spec(String... args) {
    LoadCommand command = new LoadCommand();
    new CommandLine(command).parseArgs(args);
    return command.toSpec();
  }

  @Test
  void aSpecBuiltInCodeRefusesADurationTooLongToCountInNanosecondsBeforeAnyClientOpens() {
    // Before: accepted, then an ArithmeticException once the client was open (and it stayed open).
    Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
    assertThatThrownBy(() -> new LoadSpec(java.net.URI.create("http://127.0.0.1:1/"), ClientKind.HC5,
            StrategyKind.RESET, dev.timewait.CloseStrategy.reset(), 10, 1, forever, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration must be <= " + LoadSpec.MAX_DURATION + ", but was " + forever);
  }

  @Test
  void defaultsAreGetRetriesOffUnpaced() {
    LoadSpec spec = spec("--url", "http://127.0.0.1:1/");

    assertThat(spec.method()).isEqualTo(LoadSpec.Method.GET);
    assertThat(spec.bodySize()).isZero();
    assertThat(spec.retries()).as("retries are off unless asked for").isFalse();
    assertThat(spec.pacing()).isEqualTo(LoadSpec.Pacing.NONE);
  }

  @Test
  void postTakesTheDefaultOrTheGivenBodySize() {
    assertThat(spec("--url", "http://127.0.0.1:1/", "--method", "POST").bodySize())
        .isEqualTo(LoadCommand.DEFAULT_BODY_SIZE);
    assertThat(spec("--url", "http://127.0.0.1:1/", "--method", "post", "--body-size", "0").bodySize()).isZero();
    LoadSpec spec = spec("--url", "http://127.0.0.1:1/", "--method", "POST", "--body-size", "4096", "--retries", "on");
    assertThat(spec.method()).isEqualTo(LoadSpec.Method.POST);
    assertThat(spec.bodySize()).isEqualTo(4096);
    assertThat(spec.retries()).isTrue();
  }

  @Test
  void idleGapParsesARangeOrOneValueAndKeepsTheSeed() {
    LoadSpec.Pacing range = spec("--url", "http://127.0.0.1:1/", "--burst", "6", "--idle-gap", "800-1400",
        "--seed", "-42").pacing();
    assertThat(range).isEqualTo(LoadSpec.Pacing.bursts(6, 800, 1400, -42));
    assertThat(range.byBursts()).isTrue();
    assertThat(range.byRate()).isFalse();

    LoadSpec.Pacing one = spec("--url", "http://127.0.0.1:1/", "--idle-gap", "250").pacing();
    assertThat(one.burst()).as("--idle-gap alone: a gap after every request").isEqualTo(1);
    assertThat(one.gapMinMs()).isEqualTo(250);
    assertThat(one.gapMaxMs()).isEqualTo(250);
  }

  @Test
  void rateAcceptsDecimals() {
    LoadSpec.Pacing pacing = spec("--url", "http://127.0.0.1:1/", "--rate", "2.5").pacing();

    assertThat(pacing.byRate()).isTrue();
    assertThat(pacing.rate()).isEqualTo(2.5);
  }

  @Test
  void rawHasNoTimewaitStrategyAndPooledTakesTheRetirement() {
    LoadSpec raw = spec("--url", "http://127.0.0.1:1/", "--strategy", "raw");
    assertThat(raw.kind()).isEqualTo(StrategyKind.RAW);
    assertThat(raw.strategy()).isNull();

    LoadSpec pooled = spec("--url", "http://127.0.0.1:1/", "--strategy", "pooled", "--retirement", "server-close",
        "--fin-timeout", "500");
    assertThat(((PooledKeepAlive) pooled.strategy()).retirement()).isEqualTo(Retirement.SERVER_CLOSE);
    assertThat(pooled.strategy().finWait()).isEqualTo(Duration.ofMillis(500));
    LoadSpec byDefault = spec("--url", "http://127.0.0.1:1/", "--strategy", "pooled");
    assertThat(((PooledKeepAlive) byDefault.strategy()).retirement()).isEqualTo(PooledKeepAlive.DEFAULT_RETIREMENT);
  }

  @Test
  void helpSaysRetriesAreOffByDefaultAndBurstsArePerWorker() {
    Run run = cli("load", "--help");

    assertThat(run.exitCode()).isZero();
    String help = run.out().replaceAll("\\s+", " ");
    assertThat(help).contains("automatic retries are OFF unless --retries on")
        .contains("--retries=on|off The client's own automatic retries. off (the default)")
        .contains("EACH WORKER")
        .contains("raw (one client with its own default pool and no timewait");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp"})
  void postSendsTheBodyAndReportsTheSettings(String client) throws Exception {
    server.stubFor(post("/hello").willReturn(ok("posted")));

    Run run = cli("load", "--url", url(), "--client", client, "--strategy", "pooled", "--retirement", "server-close",
        "--method", "POST", "--body-size", "37", "--requests", "5", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.get("errors").asLong()).isZero();
    assertThat(json.get("method").asText()).isEqualTo("POST");
    assertThat(json.get("bodySize").asInt()).isEqualTo(37);
    assertThat(json.get("retries").asText()).isEqualTo("off");
    assertThat(json.get("retirement").asText()).isEqualTo("server-close");
    assertThat(json.get("rate").isNull()).isTrue();
    server.verify(5, postRequestedFor(urlEqualTo("/hello"))
        .withHeader("Content-Length", equalTo("37"))
        .withRequestBody(equalTo("abcdefghijklmnopqrstuvwxyzabcdefghijk")));
    assertThat(run.out()).contains("settings      POST 37 B, retries off, retirement server-close, unpaced");
  }

  @Test
  void anHttpErrorStatusNamesTheMethod() throws Exception {
    Run run = cli("load", "--url", "http://127.0.0.1:" + server.getPort() + "/missing", "--client", "okhttp",
        "--strategy", "reset", "--method", "POST", "--requests", "2", "--concurrency", "1", "--json");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.json().get("errors").asLong()).isEqualTo(2);
    assertThat(run.json().get("firstError").asText()).startsWith("HTTP 404 from POST http://127.0.0.1:");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp"})
  void rawRunsTheClientWithoutTimewait(String client) throws Exception {
    Run run = cli("load", "--url", url(), "--client", client, "--strategy", "raw", "--requests", "20",
        "--concurrency", "2", "--retries", "on", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.get("strategy").asText()).isEqualTo("raw");
    assertThat(json.get("errors").asLong()).isZero();
    assertThat(json.get("retries").asText()).isEqualTo("on");
    assertThat(json.get("retirement").isNull()).isTrue();
    // No timewait socket factory: nothing counts the connections.
    assertThat(json.get("connectionsOpened").isNull()).isTrue();
    assertThat(run.out()).contains("not counted (raw:");
  }

  @Test
  void burstsSleepTheGapBetweenBurstsButNotAfterTheLast() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "6",
        "--concurrency", "1", "--burst", "2", "--idle-gap", "250-300", "--seed", "7", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.get("requests").asLong()).isEqualTo(6);
    // Three bursts, two gaps of 250-300 ms between them, none after the third.
    assertThat(json.get("durationMs").asLong()).isBetween(500L, 5_000L);
    assertThat(json.get("burst").asInt()).isEqualTo(2);
    assertThat(json.get("idleGapMinMs").asLong()).isEqualTo(250);
    assertThat(json.get("idleGapMaxMs").asLong()).isEqualTo(300);
    assertThat(json.get("seed").asLong()).isEqualTo(7);
    assertThat(run.out()).contains("bursts of 2 per worker, idle gaps 250-300 ms (seed 7)");
  }

  @Test
  void withoutASeedTheRunPrintsTheOneItDrew() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "hc5", "--strategy", "reset", "--requests", "2",
        "--concurrency", "1", "--idle-gap", "0", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    long seed = run.json().get("seed").asLong();
    assertThat(run.out()).contains("(seed " + seed + ")");
  }

  @Test
  void rateSpacesTheRequestsOverAllWorkers() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "hc5-async", "--strategy", "pooled", "--requests", "5",
        "--concurrency", "2", "--rate", "10", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    // The fifth request is due 400 ms after the start, whichever worker sends it.
    assertThat(json.get("durationMs").asLong()).isBetween(400L, 5_000L);
    assertThat(json.get("rate").asDouble()).isEqualTo(10.0);
    assertThat(json.get("burst").isNull()).isTrue();
  }

  @Test
  void aSlowRateIsWrittenAsGivenNotRoundedToZero() throws Exception {
    // One request, due at the start: the run ends at once whatever the rate.
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset", "--requests", "1",
        "--rate", "0.0004", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    // Measured values are rounded to three decimals; a setting is echoed as given (it read 0).
    assertThat(run.json().get("rate").asDouble()).isEqualTo(0.0004);
  }

  @Test
  void durationCutsALongIdleGapShort() {
    long t0 = System.nanoTime();
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset", "--requests", "100",
        "--concurrency", "1", "--idle-gap", "60000", "--duration", "1", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("\"requests\":1,");
    // The run ends with --duration, not after the 60 s gap (the settle after it is bounded too).
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0)).isLessThan(java.time.Duration.ofSeconds(15));
  }

  @Test
  void startSignalHoldsTheLoadUntilTheFileExistsAndTheDurationCountsFromThen(@TempDir Path dir) throws Exception {
    Path signal = dir.resolve("go");
    CompletableFuture<Run> running = CompletableFuture.supplyAsync(() -> cli("load", "--url", url(),
        "--client", "okhttp", "--strategy", "pooled", "--requests", "3", "--concurrency", "1",
        "--start-signal", signal.toString(), "--json"));
    Thread.sleep(1_500);
    assertThat(running).as("no load before the signal").isNotDone();
    server.verify(0, getRequestedFor(urlEqualTo("/hello")));

    Files.createFile(signal);
    Run run = running.get(60, TimeUnit.SECONDS);

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).contains(LoadEngine.READY + " " + signal);
    JsonNode json = run.json();
    assertThat(json.get("requests").asLong()).isEqualTo(3);
    assertThat(json.get("startSignal").asText()).isEqualTo(signal.toString());
    assertThat(json.get("startWaitMs").asLong()).isGreaterThanOrEqualTo(1_000);
    // The load's own clock starts at the signal: three requests on loopback, not the wait.
    assertThat(json.get("durationMs").asLong()).isLessThan(1_000);
    assertThat(run.out()).contains("start         on " + signal + ", after waiting");
  }

  @Test
  void warmupRequestsGoFirstAndAreNotCounted() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "hc5-async", "--strategy", "pooled", "--requests", "4",
        "--concurrency", "1", "--warmup", "3", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.get("requests").asLong()).isEqualTo(4);
    assertThat(json.get("warmup").asInt()).isEqualTo(3);
    assertThat(json.get("warmupErrors").asInt()).isZero();
    server.verify(7, getRequestedFor(urlEqualTo("/hello")));
    assertThat(run.out()).contains("warm-up       3 requests before the load, not counted: 0 failed");
  }

  @Test
  void aRateCountsFromTheEndOfTheWarmupSoItsFirstRequestsAreNotSentAtOnce() throws Exception {
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "pooled", "--requests", "4",
        "--concurrency", "1", "--warmup", "300", "--rate", "10", "--quiet");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    // Newest first. The load's 4 are due 0, 100, 200 and 300 ms after the warm-up, however long it took
    // (a cold client's 300 requests take longer than that: counted from before it, all 4 were overdue).
    List<com.github.tomakehurst.wiremock.stubbing.ServeEvent> served = server.getAllServeEvents();
    assertThat(served).hasSize(304);
    long spreadMs = served.get(0).getRequest().getLoggedDate().getTime()
        - served.get(3).getRequest().getLoggedDate().getTime();
    assertThat(spreadMs).isGreaterThanOrEqualTo(250);
  }

  @Test
  void aStartSignalInADirectoryThatIsNotThereIsRefusedAtOnceByName() {
    // Before: "ready", then a wait of the whole bound (600 s) for a file that could never appear.
    Path missing = Path.of(System.getProperty("java.io.tmpdir"), "timewait-no-such-dir-" + System.nanoTime(), "go");
    Run run = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> cli("load", "--url", url(), "--requests", "1", "--start-signal", missing.toString()));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--start-signal's directory must exist, but "
        + missing.getParent() + " does not");
  }

  @Test
  void aUrlWithUserInfoIsRefusedWithoutEchoingItAndRedactionDropsIt() {
    Run run = cli("load", "--url", "http://admin:hunter2@127.0.0.1:1/");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).doesNotContain("hunter2");
    // Before, the redacted form kept the user info: into the HTML report's title and the errors.
    assertThat(LoadEngine.redact(java.net.URI.create("http://admin:hunter2@127.0.0.1:8080/a?token=x")))
        .isEqualTo("http://127.0.0.1:8080/a?...");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hc5", "hc5-async", "okhttp", "reactor-netty"})
  void aRedirectIsAnAnswerNotFollowedToAnotherHost(String client) throws Exception {
    com.sun.net.httpserver.HttpServer elsewhere = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 50);
    java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
    elsewhere.createContext("/", exchange -> {
      reached.incrementAndGet();
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    elsewhere.start();
    try {
      server.stubFor(get("/moved").willReturn(com.github.tomakehurst.wiremock.client.WireMock.temporaryRedirect(
          "http://127.0.0.1:" + elsewhere.getAddress().getPort() + "/elsewhere")));

      Run run = cli("load", "--url", "http://127.0.0.1:" + server.getPort() + "/moved", "--client", client,
          "--strategy", "reset", "--requests", "5", "--concurrency", "1", "--json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
      // Before, three of the four clients followed it: the load went to another host, and the
      // TIME_WAIT it left there was counted nowhere.
      assertThat(reached).hasValue(0);
      server.verify(5, getRequestedFor(urlEqualTo("/moved")));
    } finally {
      elsewhere.stop(0);
    }
  }

  @Test
  void aTargetAtTheAnyAddressCountsTheClientTimeWaitTheKernelShowsAtLoopback() throws Exception {
    KernelTcp.assumeReadable();
    com.sun.net.httpserver.HttpServer any = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("0.0.0.0", 0), 50);
    any.createContext("/", exchange -> {
      byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, ok.length);
      exchange.getResponseBody().write(ok);
      exchange.close();
    });
    any.start();
    try {
      Run run = cli("load", "--url", "http://0.0.0.0:" + any.getAddress().getPort() + "/", "--client", "okhttp",
          "--strategy", "naive", "--requests", "20", "--concurrency", "1", "--json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
      // Before: 0, counted towards 0.0.0.0, where no socket's remote address ever is.
      assertThat(run.json().get("clientTimeWait").asInt()).isGreaterThanOrEqualTo(16);
    } finally {
      any.stop(0);
    }
  }

  @Test
  void theBaselineIsTakenAfterTheWarmupWhoseTimeWaitIsNotTheLoads() throws Exception {
    KernelTcp.assumeReadable();

    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "naive", "--requests", "20",
        "--concurrency", "1", "--warmup", "20", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode json = run.json();
    // Before, the baseline came before the warm-up: its 20 naive connections counted as the load's.
    // (An earlier test's TIME_WAIT towards a port number bind(0) handed out again may expire
    // during the run: the difference may come out lower than 20, never near 40.)
    assertThat(json.get("clientTimeWaitBefore").asInt()).isGreaterThanOrEqualTo(16);
    assertThat(json.get("clientTimeWait").asInt() - json.get("clientTimeWaitBefore").asInt()).isBetween(10, 24);
  }

  @Test
  void aWarmupWhoseResponseTricklesInForeverEndsAtItsBound() throws Exception {
    // HttpClient 5 classic has no whole-call timeout: a chunk every 300 ms kept its warm-up going.
    try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread peer = new Thread(() -> {
        try (java.net.Socket s = listener.accept()) {
          java.io.OutputStream out = s.getOutputStream();
          s.getInputStream().read(new byte[4096]);
          out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          for (int i = 0; i < 100; i++) { // bounded: 30 s at most
            out.write("1\r\nx\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300);
          }
        } catch (Exception ended) {
          // the client's close ends it
        }
      }, "trickling-peer");
      peer.setDaemon(true);
      peer.start();
      java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/");
      LoadClient client = LoadClient.open(new LoadSpec(uri, ClientKind.HC5, StrategyKind.RAW, null, 1, 1, null, null));
      long start = System.nanoTime();
      try {
        assertThatThrownBy(() -> LoadEngine.warmup(client, uri, null, 1, Duration.ofSeconds(1)))
            .isInstanceOf(IllegalStateException.class)
            .hasMessage("the warm-up did not finish within 1 s");
      } finally {
        client.close();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      peer.join(10_000);
    }
  }

  @Test
  void failedWarmupRequestsAreCountedApart() throws Exception {
    Run run = cli("load", "--url", "http://127.0.0.1:" + server.getPort() + "/missing", "--client", "okhttp",
        "--strategy", "reset", "--requests", "1", "--concurrency", "1", "--warmup", "2", "--json");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.json().get("warmupErrors").asInt()).isEqualTo(2);
    assertThat(run.json().get("errors").asLong()).as("the load's own errors only").isEqualTo(1);
  }

  @Test
  void aSignalThatIsAlreadyThereStartsTheLoadAtOnce(@TempDir Path dir) throws Exception {
    Path signal = Files.createFile(dir.resolve("go"));

    Run run = cli("load", "--url", url(), "--client", "hc5", "--strategy", "reset", "--requests", "1",
        "--concurrency", "1", "--start-signal", signal.toString(), "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.json().get("startWaitMs").asLong()).isLessThan(1_000);
  }

  @Test
  void reportChartsTheStrategyAndThenNaiveOnOnePageAndJsonStaysTheStrategys(@TempDir Path dir) throws Exception {
    Path page = dir.resolve("run.html");
    Run run = cli("load", "--url", url(), "--client", "okhttp", "--strategy", "reset", "--requests", "200",
        "--concurrency", "4", "--compare-naive", "--report", page.toString(), "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("client okhttp, strategy reset", "client okhttp, strategy naive",
        "report        " + page);
    assertThat(run.json().get("strategy").asText()).isEqualTo("reset");
    String html = Files.readString(page);
    HtmlReportTest.parseXml(html);
    JsonNode runs = HtmlReportTest.data(html).get("runs");
    assertThat(runs).hasSize(2);
    assertThat(runs.get(0).get("label").asText()).isEqualTo("okhttp reset");
    assertThat(runs.get(1).get("label").asText()).isEqualTo("okhttp naive");
    for (JsonNode r : runs) {
      // The start and the end at least; the rate between them counts every request.
      assertThat(r.get("t").size()).isGreaterThanOrEqualTo(2);
      assertThat(r.get("rps").size()).isEqualTo(r.get("t").size());
    }
    if (TcpTable.system().isSupported()) {
      JsonNode reset = runs.get(0).get("clientTimeWait");
      JsonNode naive = runs.get(1).get("clientTimeWait");
      // The naive run's last sample counts about one TIME_WAIT per request, added to what reset left (none).
      assertThat(naive.get(naive.size() - 1).asInt() - naive.get(0).asInt()).isGreaterThanOrEqualTo(190);
      assertThat(reset.get(reset.size() - 1).asInt()).isLessThanOrEqualTo(reset.get(0).asInt());
    }
  }

  @Test
  void reportRefusesADirectoryBeforeAnyRequest(@TempDir Path dir) throws Exception {
    Path folder = Files.createDirectory(dir.resolve("charts.html"));
    Run run = cli("load", "--url", url(), "--report", folder.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("--report must be a file, but was a directory: " + folder);
    server.verify(0, getRequestedFor(urlEqualTo("/hello")));
  }

  @Test
  void loadBoundCountsThePacingWaits() {
    LoadSpec plain = spec("--url", "http://127.0.0.1:1/", "--requests", "10", "--concurrency", "1");
    LoadSpec paced = spec("--url", "http://127.0.0.1:1/", "--requests", "10", "--concurrency", "1",
        "--rate", "0.1");
    LoadSpec gapped = spec("--url", "http://127.0.0.1:1/", "--requests", "10", "--concurrency", "1",
        "--burst", "2", "--idle-gap", "1000-9000");

    assertThat(LoadEngine.loadBound(paced)).isEqualTo(LoadEngine.loadBound(plain).plusSeconds(100));
    assertThat(LoadEngine.loadBound(gapped)).isEqualTo(LoadEngine.loadBound(plain).plusSeconds(6 * 9));
  }

  @Test
  void loadBoundOfMillionsOfPacedRequestsStaysPositive() {
    // 3,000,000 requests * 1000 ms overflowed int: the bound was about -1,163,072 s, and the run
    // ended at once as "did not finish".
    LoadSpec many = spec("--url", "http://127.0.0.1:1/", "--requests", "3000000", "--concurrency", "1024",
        "--rate", "1");

    assertThat(LoadEngine.loadBound(many)).isGreaterThan(Duration.ofSeconds(3_000_000));
    // And a rate that is barely positive: capped at the longest run, which toMillis() can take.
    LoadSpec crawl = spec("--url", "http://127.0.0.1:1/", "--requests", "10", "--rate", "1e-12");
    assertThat(LoadEngine.loadBound(crawl)).isEqualTo(LoadSpec.MAX_DURATION);
    assertThat(LoadEngine.loadBound(crawl).toMillis()).isPositive();
  }
}
