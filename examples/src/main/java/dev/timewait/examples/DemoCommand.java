package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.common.Slf4jNotifier;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code demo}: starts WireMock on loopback and runs the same load with every client and every
 * strategy, each run against a fresh server port so that the kernel's TIME_WAIT counts of one run
 * never mix with another's, then prints one table.
 *
 * <p>Not thread-safe; picocli makes one per run.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = TimeWaitLoad.Version.class,
    header = "Runs every client with every strategy against an embedded WireMock; prints one table.",
    description = "Runs every client (hc5, hc5-async, okhttp, reactor-netty) with every strategy (naive, server-close, reset, "
        + "pooled) against an embedded WireMock on 127.0.0.1 and prints one table: naive leaves client "
        + "TIME_WAIT for about every request, timewait's strategies leave none.")
public final class DemoCommand implements Callable<Integer> {
  /** Default {@code --requests} per run. */
  public static final int DEFAULT_REQUESTS = 300;
  /** Default {@code --concurrency} per run. */
  public static final int DEFAULT_CONCURRENCY = 4;
  /** The pooled runs retire each connection after this many requests, to show retirement. */
  public static final int POOLED_REQUESTS_PER_CONNECTION = 50;
  /** WireMock's Jetty threads: enough for the demo's concurrency, modest on a small machine. */
  public static final int SERVER_THREADS = 12;
  /** The kinds the demo runs: naive and timewait's three (raw, the client's own pool, is for the load CLI). */
  static final List<StrategyKind> KINDS =
      List.of(StrategyKind.NAIVE, StrategyKind.SERVER_CLOSE, StrategyKind.RESET, StrategyKind.POOLED);

  @Spec CommandSpec spec;

  @Option(names = "--requests", paramLabel = "N", defaultValue = "" + DEFAULT_REQUESTS,
      description = "Requests per run. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--concurrency", paramLabel = "C", defaultValue = "" + DEFAULT_CONCURRENCY,
      description = "Requests in flight per run. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (requests <= 0) {
      throw new ParameterException(spec.commandLine(), "--requests must be > 0, but was " + requests);
    }
    if (requests > LoadCommand.MAX_REQUESTS) {
      // The load command's bound: each run keeps a latency per request.
      throw new ParameterException(spec.commandLine(),
          "--requests must be <= " + LoadCommand.MAX_REQUESTS + ", but was " + requests);
    }
    if (concurrency <= 0 || concurrency > LoadCommand.MAX_CONCURRENCY) {
      throw new ParameterException(spec.commandLine(),
          "--concurrency must be 1 to " + LoadCommand.MAX_CONCURRENCY + ", but was " + concurrency);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (!TcpTable.system().isSupported()) {
      out.println("Note: the kernel's TCP table cannot be read here (not Linux): TIME_WAIT columns show n/a.");
    }
    out.printf(Locale.ROOT, "timewait demo: %d requests per run at concurrency %d, WireMock on 127.0.0.1,"
        + " a fresh port per run%n", requests, concurrency);
    List<LoadResult> results = new ArrayList<>();
    int total = ClientKind.values().length * KINDS.size();
    int n = 0;
    for (ClientKind client : ClientKind.values()) {
      for (StrategyKind kind : KINDS) {
        n++;
        out.printf(Locale.ROOT, "[%2d/%d] %-9s %-12s ", n, total, client, kind);
        out.flush();
        WireMockServer server = startServer();
        LoadResult result;
        try {
          URI url = URI.create("http://127.0.0.1:" + server.port() + "/hello");
          result = LoadEngine.run(
              new LoadSpec(url, client, kind, strategy(kind), requests, concurrency, null, null));
        } finally {
          server.stop();
        }
        results.add(result);
        out.printf(Locale.ROOT, "done: %d requests in %d ms, %d errors, client TIME_WAIT %s%n",
            result.requests(), result.durationMs(), result.errors(), orNa(result.clientTimeWait()));
        if (result.firstError() != null) {
          out.println("        first error: " + result.firstError());
        }
        out.flush();
      }
    }
    out.println();
    out.print(table(results));
    out.println();
    out.println("TIME_WAIT: sockets in TIME_WAIT after the run, from the kernel's table (/proc/net/tcp*):");
    out.println("  client = towards the run's server port, server = on that port. naive = a new default");
    out.println("  client per request, closed after it (Reactor Netty: HttpClient.newConnection(), no pool).");
    out.println("  Close accounting (opened, after-FIN, reset, local-first, FIN timeouts) is the client's own");
    out.println("  count; '-' where it cannot count (naive HttpClient 5 and Reactor Netty: no hook to count");
    out.printf(Locale.ROOT, "  with, short of the adapter). pooled runs retire each connection after %d requests.%n",
        POOLED_REQUESTS_PER_CONNECTION);
    out.flush();
    return results.stream().allMatch(r -> r.errors() == 0) ? TimeWaitLoad.EXIT_OK : TimeWaitLoad.EXIT_FAILED;
  }

  private CloseStrategy strategy(StrategyKind kind) {
    return switch (kind) {
      case NAIVE, RAW -> null;
      case SERVER_CLOSE -> CloseStrategy.serverClose();
      case RESET -> CloseStrategy.reset();
      case POOLED -> PooledKeepAlive.builder()
          .maxTotal(concurrency)
          .maxPerRoute(concurrency)
          .maxRequestsPerConnection(POOLED_REQUESTS_PER_CONNECTION)
          .build();
    };
  }

  /**
   * WireMock on a port that no socket uses, so the kernel's counts are this run's alone: the
   * kernel hands a closed server's port out again at once, while the TIME_WAIT that an earlier
   * run's (or another program's) naive client left towards it lasts 60 s.
   */
  private static WireMockServer startServer() throws IOException {
    WireMockServer server = KernelTcp.startOnFreshPorts(() -> {
      WireMockServer s = new WireMockServer(wireMockConfig()
          .bindAddress("127.0.0.1")
          .dynamicPort()
          .containerThreads(SERVER_THREADS)
          .jettyAcceptors(1)
          .disableRequestJournal()
          .notifier(new Slf4jNotifier(false)));
      s.start();
      return s;
    }, WireMockServer::stop, WireMockServer::port);
    server.stubFor(get(urlEqualTo("/hello")).willReturn(ok("hello")));
    return server;
  }

  /** The results as one fixed-width table. */
  static String table(List<LoadResult> results) {
    String[] head = {"client", "strategy", "requests", "errors", "req/s", "p50 ms", "p99 ms", "opened",
        "client TW", "server TW", "after-FIN", "reset", "local-first", "FIN timeouts"};
    List<String[]> rows = new ArrayList<>();
    rows.add(head);
    for (LoadResult r : results) {
      CloseStats s = r.stats();
      rows.add(new String[] {
        r.client(), r.strategy(), Long.toString(r.requests()), Long.toString(r.errors()),
        String.format(Locale.ROOT, "%.0f", r.requestsPerSecond()), LoadResult.ms(r.p50Ms()),
        LoadResult.ms(r.p99Ms()), s == null ? "-" : Long.toString(s.connectionsOpened()),
        orNa(r.clientTimeWait()), orNa(r.serverTimeWait()),
        s == null ? "-" : Long.toString(s.closedAfterPeerFin()), s == null ? "-" : Long.toString(s.closedByReset()),
        s == null ? "-" : Long.toString(s.closedLocallyFirst()), s == null ? "-" : Long.toString(s.finWaitTimeouts()),
      });
    }
    int[] width = new int[head.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      String[] row = rows.get(r);
      for (int i = 0; i < row.length; i++) {
        if (i > 0) {
          sb.append("  ");
        }
        // Names left-aligned, numbers right-aligned.
        sb.append(i < 2 ? String.format("%-" + width[i] + "s", row[i]) : String.format("%" + width[i] + "s", row[i]));
      }
      sb.append(System.lineSeparator());
      if (r == 0) {
        int line = 0;
        for (int w : width) {
          line += w + 2;
        }
        sb.append("-".repeat(line - 2)).append(System.lineSeparator());
      }
    }
    return sb.toString();
  }

  private static String orNa(Integer value) {
    return value == null ? "n/a" : value.toString();
  }
}
