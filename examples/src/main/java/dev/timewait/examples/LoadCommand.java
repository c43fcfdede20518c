package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
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
import java.util.Locale;
import java.util.concurrent.Callable;
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
 * {@code load}: runs GETs against any URL with one client and strategy, prints a summary and,
 * with {@code --json}, one JSON object as the last line of stdout. A stable contract: other
 * tooling drives it.
 *
 * <p>Not thread-safe; picocli makes one per run.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    versionProvider = TimeWaitLoad.Version.class,
    sortOptions = false,
    header = "Loads one URL with one client and strategy; reports latency and TIME_WAIT.",
    description = {
      "Sends GETs to one URL (reading each whole body) and reports throughput, latency, how the "
          + "client's connections closed, and TIME_WAIT counted from the kernel's table before and after the run.",
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

  @Spec CommandSpec spec;

  @Option(names = "--url", required = true, paramLabel = "URL", description = "Target URL, http or https.")
  String url;

  @Option(names = "--client", paramLabel = "CLIENT", defaultValue = "hc5",
      description = "hc5, hc5-async or okhttp. Default: ${DEFAULT-VALUE}.")
  String client;

  @Option(names = "--strategy", paramLabel = "STRATEGY", defaultValue = "naive",
      description = "naive (a new default client per request, closed after it: what harnesses do today), "
          + "server-close, reset or pooled. Default: ${DEFAULT-VALUE}.")
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

  @Option(names = "--fin-timeout", paramLabel = "MS",
      description = "server-close (and pooled retirement): longest wait for the server's FIN. Default: 2000.")
  Integer finTimeout;

  @Option(names = "--max-connections", paramLabel = "K",
      description = "pooled: most connections, in total and per route. Default: 20.")
  Integer maxConnections;

  @Option(names = "--max-requests-per-connection", paramLabel = "K",
      description = "pooled: requests a connection serves before it retires. Default: 10,000 (PooledKeepAlive.DEFAULT_MAX_REQUESTS_PER_CONNECTION).")
  Integer maxRequestsPerConnection;

  @Option(names = "--truststore", paramLabel = "PATH",
      description = "PKCS12 truststore for https (a self-signed server, say).")
  Path truststore;

  @Option(names = "--truststore-password", paramLabel = "PW", description = "Password of --truststore.",
      arity = "1")
  String truststorePassword;

  @Option(names = "--json", description = "Also print the result as one JSON object, the last line of stdout.")
  boolean json;

  @Option(names = "--quiet", description = "No TIME_WAIT baseline and progress lines on stderr. They are also "
      + "off with --json when no terminal is attached (a tool reads the output).")
  boolean quiet;

  @Override
  public Integer call() throws InterruptedException {
    LoadSpec load = toSpec();
    PrintWriter out = spec.commandLine().getOut();
    LoadResult result = LoadEngine.run(load, progress());
    out.print(result.summary());
    if (json) {
      out.println(result.toJson());
    }
    out.flush();
    return result.exitCode();
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
    if (maxConnections != null) {
      positive(maxConnections, "--max-connections");
    }
    if (maxRequestsPerConnection != null) {
      positive(maxRequestsPerConnection, "--max-requests-per-connection");
    }
    if ((maxConnections != null || maxRequestsPerConnection != null) && kind != StrategyKind.POOLED) {
      throw bad("--max-connections and --max-requests-per-connection apply to --strategy pooled, not " + kind);
    }
    CloseStrategy closeStrategy = parse("", () -> strategy(kind));
    LoadSpec.Tls tls = truststore == null ? null : loadTrust();
    if (truststore == null && truststorePassword != null) {
      throw bad("--truststore-password needs --truststore");
    }
    return new LoadSpec(target, clientKind, kind, closeStrategy, requests, concurrency,
        duration == null ? null : Duration.ofSeconds(duration), tls);
  }

  private CloseStrategy strategy(StrategyKind kind) {
    Duration finWait = finTimeout == null ? ServerClose.DEFAULT_FIN_WAIT : Duration.ofMillis(finTimeout);
    return switch (kind) {
      case NAIVE -> null;
      case SERVER_CLOSE -> ServerClose.builder().finWait(finWait).build();
      case RESET -> CloseStrategy.reset();
      case POOLED -> {
        PooledKeepAlive.Builder b = PooledKeepAlive.builder().finWait(finWait);
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
