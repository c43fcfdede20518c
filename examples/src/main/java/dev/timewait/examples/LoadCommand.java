package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.ServerClose;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code load}: runs GETs or POSTs against any URL with one client and strategy, optionally paced
 * (a rate, or bursts with idle gaps), prints a summary and, with {@code --json}, one JSON object as
 * the last line of stdout. A stable contract: other tooling (scripts/clb-lab.sh) drives it; fields
 * are only ever added, at the end.
 *
 * <p>Not thread-safe; picocli makes one per run.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    versionProvider = TimeWaitLoad.Version.class,
    sortOptions = false,
    header = "Loads one URL with one client and strategy; reports failures, latency and TIME_WAIT.",
    description = {
      "Sends GETs or POSTs to one URL (reading each whole response body), as fast as the workers go, "
          + "at a --rate, or in bursts with idle gaps between them (--burst, --idle-gap), and reports "
          + "failed requests with the first error, throughput, latency, how the client's connections "
          + "closed, and TIME_WAIT counted from the kernel's table before and after the run.",
      "The client's own automatic retries are OFF unless --retries on: a request that fails is "
          + "counted, not hidden by a retry.",
      "Every run is bounded by --requests, and by --duration when given.",
      "While it runs, stderr gets the TIME_WAIT baseline and, about once a second, requests done, errors, "
          + "the rate and client TIME_WAIT now (off with --quiet, and with --json when no terminal is attached).",
      "Exit 0 when every request succeeded, 1 when any failed, 2 for bad arguments."
    })
public final class LoadCommand implements Callable<Integer> {
  /** Default {@code --requests}. */
  public static final int DEFAULT_REQUESTS = 1000;
  /** Default {@code --concurrency}. */
  public static final int DEFAULT_CONCURRENCY = 8;
  /** The most workers {@code --concurrency} accepts. */
  public static final int MAX_CONCURRENCY = 1024;
  /**
   * The most {@code --requests} accepted: 10 million, whose latencies fill an 80 MB array (one
   * preallocated slot per request). Use {@code --duration} for longer runs.
   */
  public static final int MAX_REQUESTS = 10_000_000;
  /** Default {@code --body-size} of a POST, in bytes. */
  public static final int DEFAULT_BODY_SIZE = 256;
  /** The largest {@code --body-size}: 16 MiB (one array, shared by every request). */
  public static final int MAX_BODY_SIZE = 16 << 20;
  /** The highest {@code --rate}, requests per second. */
  public static final double MAX_RATE = 1_000_000;
  /** The longest {@code --idle-gap}, in ms: 10 minutes. */
  public static final long MAX_IDLE_GAP_MS = 600_000;
  /** The most {@code --warmup} requests. */
  public static final int MAX_WARMUP = 1000;
  /** {@code --idle-gap}: MIN_MS or MIN_MS-MAX_MS. */
  private static final Pattern IDLE_GAP = Pattern.compile("(\\d{1,9})(?:-(\\d{1,9}))?");

  @Spec CommandSpec spec;

  @Option(names = "--url", required = true, paramLabel = "URL", description = "Target URL, http or https.")
  String url;

  @Option(names = "--client", paramLabel = "CLIENT", defaultValue = "hc5",
      description = "hc5, hc5-async, okhttp or reactor-netty. Default: ${DEFAULT-VALUE}.")
  String client;

  @Option(names = "--strategy", paramLabel = "STRATEGY", defaultValue = "naive",
      description = "naive (a new default client per request, closed after it: what harnesses do today; "
          + "Reactor Netty: HttpClient.newConnection(), no pool), "
          + "server-close, reset, pooled, or raw (one client with its own default pool and no timewait, "
          + "to compare against). Default: ${DEFAULT-VALUE}.")
  String strategy;

  @Option(names = "--requests", paramLabel = "N", defaultValue = "" + DEFAULT_REQUESTS,
      description = "Requests to send. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--concurrency", paramLabel = "C", defaultValue = "" + DEFAULT_CONCURRENCY,
      description = "Requests in flight at once. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(names = "--duration", paramLabel = "SECONDS",
      description = "Stop after this many seconds, or after --requests, whichever comes first.")
  Integer duration;

  @Option(names = "--method", paramLabel = "METHOD", defaultValue = "GET",
      description = "GET or POST. Default: ${DEFAULT-VALUE}.")
  String method;

  @Option(names = "--body-size", paramLabel = "BYTES",
      description = "POST only: the body's length in bytes (printable filler, application/octet-stream), "
          + "0 to " + MAX_BODY_SIZE + ". Default: " + DEFAULT_BODY_SIZE + ".")
  Integer bodySize;

  @Option(names = "--retries", paramLabel = "on|off", defaultValue = "off",
      description = "The client's own automatic retries. off (the default): HttpClient 5 "
          + "disableAutomaticRetries(), OkHttp retryOnConnectionFailure(false), so every failed request "
          + "is counted. on: the client's default retry settings (HttpClient 5: its default retry "
          + "strategy, which resends idempotent requests; OkHttp: retryOnConnectionFailure(true)).")
  String retries;

  @Option(names = "--rate", paramLabel = "R",
      description = "Pace the requests at R per second over all workers, open loop: request i is due at "
          + "start + i/R however long earlier ones took (a late request goes at once; it is never "
          + "dropped). 0 < R <= 1000000, decimals allowed. Not with --burst/--idle-gap.")
  Double rate;

  @Option(names = "--burst", paramLabel = "N",
      description = "With --idle-gap: EACH WORKER (see --concurrency) sends N requests back to back, then "
          + "sleeps one idle gap, and so on. Default with --idle-gap: 1.")
  Integer burst;

  @Option(names = "--idle-gap", paramLabel = "MIN_MS[-MAX_MS]",
      description = "The idle gap after each burst: MIN_MS, or uniform in [MIN_MS, MAX_MS] from a random "
          + "generator seeded with --seed (each worker its own, split from it). At most "
          + MAX_IDLE_GAP_MS + " ms. No gap after the last burst.")
  String idleGap;

  @Option(names = "--seed", paramLabel = "S",
      description = "With --idle-gap: the seed of the gaps' generator (a long), to repeat a run's gaps. "
          + "Default: a random seed, printed in the summary and the JSON.")
  Long seed;

  @Option(names = "--start-signal", paramLabel = "FILE",
      description = "Build the client, print '" + LoadEngine.READY + " FILE' on stderr, then start the load "
          + "only once FILE exists (a barrier for several processes: create FILE when all are ready); "
          + "--duration and --rate count from then. Waits at most " + LoadEngine.MAX_START_WAIT_S
          + " s, then fails. The JSON's startWaitMs is the wait.")
  Path startSignal;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
      description = "Send N requests first (one after another, the same method and body), not counted in "
          + "the results, before --start-signal and the load: the load then does not pay for class loading, "
          + "the JIT and TLS set-up. Their connections stay in the pool. 0 to " + MAX_WARMUP
          + ". Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--fin-timeout", paramLabel = "MS",
      description = "server-close (and pooled with --retirement server-close): longest wait for the server's FIN. Default: 2000.")
  Integer finTimeout;

  @Option(names = "--max-connections", paramLabel = "K",
      description = "pooled: most connections, in total and per route. Default: 20.")
  Integer maxConnections;

  @Option(names = "--max-requests-per-connection", paramLabel = "K",
      description = "pooled: requests a connection serves before it retires. Default: 10,000 (PooledKeepAlive.DEFAULT_MAX_REQUESTS_PER_CONNECTION).")
  Integer maxRequestsPerConnection;

  @Option(names = "--retirement", paramLabel = "HOW",
      description = "pooled: how a connection retires: reset (SO_LINGER 0) or server-close (its last request "
          + "asks for Connection: close and the client waits for the server's FIN). Default: reset.")
  String retirement;

  @Option(names = "--truststore", paramLabel = "PATH",
      description = "PKCS12 truststore for https (a self-signed server, say).")
  Path truststore;

  @Option(names = "--truststore-password", paramLabel = "PW", description = "Password of --truststore.",
      arity = "1")
  String truststorePassword;

  @Option(names = "--report", paramLabel = "FILE.html",
      description = "Also write one self-contained HTML page (no network needed to view it) with charts over "
          + "the run, sampled once a second: requests and errors per second, p99 latency, client and server "
          + "TIME_WAIT; with --compare-naive both runs on the same axes. Its directory must exist; the file is "
          + "replaced.")
  Path report;

  @Option(names = "--series", paramLabel = "FILE.csv",
      description = "Also write the once-a-second samples that --report charts as CSV, one row per sample "
          + "of every run: client,strategy,elapsedMs,requests,errors,p99Ms,clientTimeWait,serverTimeWait "
          + "(requests and errors cumulative; p99 of the requests that succeeded since the row before; empty: "
          + "not measured). Its directory must exist; the file is replaced.")
  Path series;

  @Option(names = "--compare-naive",
      description = "Then run the same load again with --strategy naive (the same client and options) and "
          + "report both. The strategy runs first, so that naive's TIME_WAIT (each entry lives 60 s) is not "
          + "in its counts. --json prints the strategy's run; the exit code is 1 when either run had an error.")
  boolean compareNaive;

  @Option(names = "--json", description = "Also print the result as one JSON object, the last line of stdout.")
  boolean json;

  @Option(names = "--quiet", description = "No TIME_WAIT baseline and progress lines on stderr. They are also "
      + "off with --json when no terminal is attached (a tool reads the output).")
  boolean quiet;

  @Override
  public Integer call() throws InterruptedException {
    LoadSpec load = toSpec();
    Path page = outputFile(report, "--report", "an .html file", ".html", ".htm");
    Path csv = outputFile(series, "--series", "a .csv file", ".csv");
    if (compareNaive && load.kind() == StrategyKind.NAIVE) {
      throw bad("--compare-naive runs naive after a strategy: give --strategy server-close, reset, pooled or "
          + "raw, not naive");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<HtmlReport.Run> runs = new ArrayList<>();
    boolean sampled = page != null || csv != null;
    LoadResult result = run(load, sampled, runs);
    out.print(result.summary());
    int exit = result.exitCode();
    if (compareNaive) {
      out.flush();
      LoadResult naive = run(asNaive(load), sampled, runs);
      out.println();
      out.print(naive.summary());
      exit = Math.max(exit, naive.exitCode());
    }
    if (page != null) {
      try {
        HtmlReport.write(page, load.url(), runs);
        out.println("report        " + page);
      } catch (IOException e) {
        err.println("load: error: --report " + page + " could not be written: " + LoadEngine.describe(e));
        exit = TimeWaitLoad.EXIT_FAILED;
      }
    }
    if (csv != null) {
      try {
        SeriesCsv.write(csv, runs);
        out.println("series        " + csv);
      } catch (IOException e) {
        err.println("load: error: --series " + csv + " could not be written: " + LoadEngine.describe(e));
        exit = TimeWaitLoad.EXIT_FAILED;
      }
    }
    if (json) {
      out.println(result.toJson());
    }
    out.flush();
    err.flush();
    return exit;
  }

  /** One run; with a report or series, sampled into a timeline that joins {@code runs}. */
  private LoadResult run(LoadSpec load, boolean sampled, List<HtmlReport.Run> runs) throws InterruptedException {
    LoadTimeline timeline = sampled ? new LoadTimeline() : null;
    LoadResult result = LoadEngine.run(load, progress(), spec.commandLine().getErr(), timeline);
    if (timeline != null) {
      runs.add(new HtmlReport.Run(result, timeline.samples()));
    }
    return result;
  }

  /** {@code load} with a new default client per request: {@code --compare-naive}'s second run. */
  static LoadSpec asNaive(LoadSpec load) {
    return new LoadSpec(load.url(), load.client(), StrategyKind.NAIVE, null, load.requests(), load.concurrency(),
        load.duration(), load.tls(), load.method(), load.bodySize(), load.retries(), load.pacing(),
        load.startSignal(), load.warmup());
  }

  /**
   * An output file option ({@code --report}, {@code --series}), checked before any request: a file with
   * one of {@code extensions} (what {@code kind} says, e.g. "a .csv file") in a directory that exists;
   * null when not given.
   */
  Path outputFile(Path file, String option, String kind, String... extensions) {
    if (file == null) {
      return null;
    }
    String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean named = false;
    for (String extension : extensions) {
      named |= name.endsWith(extension);
    }
    if (!named) {
      throw bad(option + " must name " + kind + ", but was " + file);
    }
    if (Files.isDirectory(file)) {
      throw bad(option + " must be a file, but was a directory: " + file);
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw bad(option + " directory does not exist: " + dir + " (for " + option + " " + file + ")");
    }
    if (!Files.isWritable(dir) || (Files.exists(file) && !Files.isWritable(file))) {
      throw bad(option + " is not writable: " + file);
    }
    return file;
  }

  /**
   * The baseline and once-a-second progress on stderr, unless {@code --quiet}, or {@code --json}
   * with no terminal attached ({@link System#console()} is null: output piped or redirected).
   */
  LoadProgress progress() {
    boolean toolReads = json && System.console() == null;
    return quiet || toolReads ? LoadProgress.OFF : LoadProgress.to(spec.commandLine().getErr());
  }

  /** Validates the options into a spec, or throws a ParameterException (exit 2) naming the problem. */
  LoadSpec toSpec() {
    URI target = parseUrl(url);
    ClientKind clientKind = parse("--", () -> ClientKind.of(client));
    StrategyKind kind = parse("--", () -> StrategyKind.of(strategy));
    positive(requests, "--requests");
    if (requests > MAX_REQUESTS) {
      throw bad("--requests must be <= " + MAX_REQUESTS + ", but was " + requests);
    }
    positive(concurrency, "--concurrency");
    if (concurrency > MAX_CONCURRENCY) {
      throw bad("--concurrency must be <= " + MAX_CONCURRENCY + ", but was " + concurrency);
    }
    if (duration != null) {
      positive(duration, "--duration");
    }
    if (finTimeout != null) {
      positive(finTimeout, "--fin-timeout");
      if (finTimeout > ServerClose.MAX_FIN_WAIT.toMillis()) {
        throw bad("--fin-timeout must be <= " + ServerClose.MAX_FIN_WAIT.toMillis() + ", but was " + finTimeout);
      }
      if (kind != StrategyKind.SERVER_CLOSE && kind != StrategyKind.POOLED) {
        throw bad("--fin-timeout applies to --strategy server-close or pooled, not " + kind);
      }
    }
    if (maxConnections != null && (maxConnections <= 0 || maxConnections > PooledKeepAlive.MAX_CONNECTIONS)) {
      // Checked here, not left to the builder, whose message names its own setting (maxTotal).
      throw bad("--max-connections must be 1 to " + PooledKeepAlive.MAX_CONNECTIONS + ", but was " + maxConnections);
    }
    if (maxRequestsPerConnection != null) {
      positive(maxRequestsPerConnection, "--max-requests-per-connection");
    }
    if ((maxConnections != null || maxRequestsPerConnection != null) && kind != StrategyKind.POOLED) {
      throw bad("--max-connections and --max-requests-per-connection apply to --strategy pooled, not " + kind);
    }
    Retirement retire = retirement == null ? PooledKeepAlive.DEFAULT_RETIREMENT : parseRetirement(retirement);
    if (finTimeout != null && kind == StrategyKind.POOLED && retire != Retirement.SERVER_CLOSE) {
      // Only a server-close retirement waits for a FIN (the adapters arm none otherwise): the
      // value would be silently ignored.
      throw bad("--fin-timeout applies to --strategy pooled only with --retirement server-close: a "
          + retire.name().toLowerCase(java.util.Locale.ROOT) + " retirement waits for no FIN");
    }
    if (retirement != null && kind != StrategyKind.POOLED) {
      throw bad("--retirement applies to --strategy pooled, not " + kind);
    }
    LoadSpec.Method httpMethod = parse("--", () -> LoadSpec.Method.of(method));
    int body = bodySize(httpMethod);
    boolean retry = parseRetries(retries);
    LoadSpec.Pacing pacing = pacing();
    if (warmup < 0 || warmup > MAX_WARMUP) {
      throw bad("--warmup must be 0 to " + MAX_WARMUP + ", but was " + warmup);
    }
    if (startSignal != null) {
      // A file in a directory that is not there can never appear: the run would wait its whole
      // bound (MAX_START_WAIT_S) for nothing.
      Path dir = startSignal.toAbsolutePath().getParent();
      if (dir != null && !java.nio.file.Files.isDirectory(dir)) {
        throw bad("--start-signal's directory must exist, but " + dir + " does not (--start-signal "
            + startSignal + ")");
      }
    }
    CloseStrategy closeStrategy = parse("", () -> strategy(kind, retire));
    LoadSpec.Tls tls = truststore == null ? null : loadTrust();
    if (truststore == null && truststorePassword != null) {
      throw bad("--truststore-password needs --truststore");
    }
    return new LoadSpec(target, clientKind, kind, closeStrategy, requests, concurrency,
        duration == null ? null : Duration.ofSeconds(duration), tls, httpMethod, body, retry, pacing, startSignal,
        warmup);
  }

  private Retirement parseRetirement(String text) {
    return switch (text) {
      case "reset" -> Retirement.RESET;
      case "server-close" -> Retirement.SERVER_CLOSE;
      default -> throw bad("--retirement must be reset or server-close, but was " + text);
    };
  }

  private int bodySize(LoadSpec.Method httpMethod) {
    if (bodySize == null) {
      return httpMethod == LoadSpec.Method.POST ? DEFAULT_BODY_SIZE : 0;
    }
    if (httpMethod != LoadSpec.Method.POST) {
      throw bad("--body-size " + bodySize + " applies to --method POST only: a " + httpMethod + " carries no body");
    }
    if (bodySize < 0 || bodySize > MAX_BODY_SIZE) {
      throw bad("--body-size must be 0 to " + MAX_BODY_SIZE + ", but was " + bodySize);
    }
    return bodySize;
  }

  private boolean parseRetries(String text) {
    return switch (text) {
      case "on" -> true;
      case "off" -> false;
      default -> throw bad("--retries must be on or off, but was " + text);
    };
  }

  /** --rate, or --burst/--idle-gap/--seed, or none; each checked and named when wrong. */
  private LoadSpec.Pacing pacing() {
    boolean bursts = burst != null || idleGap != null;
    if (rate != null && bursts) {
      throw bad("--rate " + rate + " and --burst/--idle-gap are two ways to pace requests: give one");
    }
    if (seed != null && idleGap == null) {
      throw bad("--seed " + seed + " applies to --idle-gap only (it seeds the gaps)");
    }
    if (rate != null) {
      if (!(rate > 0) || rate > MAX_RATE) {
        throw bad("--rate must be > 0 and <= " + (long) MAX_RATE + " requests per second, but was " + rate);
      }
      return LoadSpec.Pacing.rate(rate);
    }
    if (!bursts) {
      return LoadSpec.Pacing.NONE;
    }
    if (idleGap == null) {
      throw bad("--burst " + burst + " needs --idle-gap MIN_MS[-MAX_MS]: the pause between bursts");
    }
    int n = burst == null ? 1 : burst;
    if (n <= 0 || n > MAX_REQUESTS) {
      throw bad("--burst must be 1 to " + MAX_REQUESTS + ", but was " + n);
    }
    long[] gap = parseIdleGap(idleGap);
    long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
    return LoadSpec.Pacing.bursts(n, gap[0], gap[1], s);
  }

  /** {@code MIN} or {@code MIN-MAX}, in ms, 0 <= MIN <= MAX <= {@link #MAX_IDLE_GAP_MS}. */
  private long[] parseIdleGap(String text) {
    Matcher m = IDLE_GAP.matcher(text);
    if (!m.matches()) {
      throw bad("--idle-gap must be MIN_MS or MIN_MS-MAX_MS (whole milliseconds, e.g. 800-1400), but was " + text);
    }
    long min = Long.parseLong(m.group(1));
    long max = m.group(2) == null ? min : Long.parseLong(m.group(2));
    if (max < min) {
      throw bad("--idle-gap MIN_MS must be <= MAX_MS, but was " + text);
    }
    if (max > MAX_IDLE_GAP_MS) {
      throw bad("--idle-gap must be at most " + MAX_IDLE_GAP_MS + " ms, but was " + text);
    }
    return new long[] {min, max};
  }

  private CloseStrategy strategy(StrategyKind kind, Retirement retire) {
    Duration finWait = finTimeout == null ? ServerClose.DEFAULT_FIN_WAIT : Duration.ofMillis(finTimeout);
    return switch (kind) {
      case NAIVE, RAW -> null;
      case SERVER_CLOSE -> ServerClose.builder().finWait(finWait).build();
      case RESET -> CloseStrategy.reset();
      case POOLED -> {
        PooledKeepAlive.Builder b = PooledKeepAlive.builder().finWait(finWait).retirement(retire);
        if (maxConnections != null) {
          b.maxTotal(maxConnections).maxPerRoute(maxConnections);
        }
        if (maxRequestsPerConnection != null) {
          b.maxRequestsPerConnection(maxRequestsPerConnection);
        }
        yield b.build();
      }
    };
  }

  private URI parseUrl(String text) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw bad("--url is not a valid URL: " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw bad("--url must be an http or https URL, but was " + text);
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw bad("--url must name a host, but was " + text);
    }
    if (uri.getRawUserInfo() != null) {
      // Not echoed: it may be a password. The clients would send no credentials from it (OkHttp
      // drops it, HttpClient 5 refuses the request), and the reports would have shown it.
      throw bad("--url must not carry user info (user:password@): the load sends no credentials");
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535) {
      throw bad("--url port must be 1 to 65535, but was " + uri.getPort());
    }
    return uri;
  }

  private LoadSpec.Tls loadTrust() {
    if (!Files.isRegularFile(truststore)) {
      throw bad("--truststore file not found: " + truststore);
    }
    char[] password = truststorePassword == null ? null : truststorePassword.toCharArray();
    try (InputStream in = Files.newInputStream(truststore)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      // Without a password the JDK still loads a PKCS12 file but skips its encrypted certificates
      // (what keytool writes): an empty trust, and every https request would fail as a load error.
      boolean anyCertificate = false;
      for (String alias : Collections.list(store.aliases())) {
        anyCertificate |= store.getCertificate(alias) != null;
      }
      if (!anyCertificate) {
        throw bad("--truststore holds no certificate (" + truststore + ")"
            + (password == null ? "; encrypted ones need --truststore-password" : ""));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      X509TrustManager trustManager = null;
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          trustManager = x;
        }
      }
      if (trustManager == null) {
        throw bad("--truststore holds no X.509 trust: " + truststore);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trustManager}, null);
      return new LoadSpec.Tls(context, trustManager);
    } catch (IOException | GeneralSecurityException e) {
      throw bad("--truststore cannot be read as PKCS12 (" + truststore + "): " + LoadEngine.describe(e));
    }
  }

  private void positive(long value, String name) {
    if (value <= 0) {
      throw bad(name + " must be > 0, but was " + value);
    }
  }

  private <T> T parse(String prefix, java.util.function.Supplier<T> parser) {
    try {
      return parser.get();
    } catch (IllegalArgumentException e) {
      throw bad(prefix + e.getMessage());
    }
  }

  private ParameterException bad(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
