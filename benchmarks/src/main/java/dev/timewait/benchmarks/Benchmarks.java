package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import dev.timewait.benchmarks.PairRunner.Pair;
import dev.timewait.benchmarks.PairRunner.Result;
import dev.timewait.benchmarks.PairRunner.Settings;
import dev.timewait.benchmarks.PairRunner.WarmupTurnover;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * The benchmark harness: paired A/B load runs (what the adapters add, what each strategy costs)
 * and allocation measurements, printed as Markdown tables.
 *
 * <pre>{@code
 * ./mvnw -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/timewait-benchmarks.jar            # full: about 30 minutes on 2 cores
 * java -jar benchmarks/target/timewait-benchmarks.jar --quick    # about 13 minutes
 * java -jar benchmarks/target/timewait-benchmarks.jar --only okhttp --rounds 6
 * }</pre>
 *
 * <p>Every request goes to a {@link BenchServer} on 127.0.0.1 in this JVM. Not thread-safe.
 */
public final class Benchmarks {
  private Benchmarks() {}

  /** Everything one run measured. */
  record Report(List<Result> pairs, List<Allocation.PairedCost> costs, List<Allocation.PerRequest> perRequest,
      List<Allocation.PerRead> perRead, List<Paced.Result> paced, List<Paced.SocketCalls> socketCalls) {}

  /** Question 7's scenario: pooled keep-alive with its reuse check (and retry) vs without. */
  static final String REUSE_CHECK = "7 the reuse check";

  /** The pairs, in the order of the questions. */
  static List<Pair> pairs() {
    List<Pair> pairs = new ArrayList<>();
    double none = Double.NaN;
    for (Library l : Library.values()) {
      // The harness's own bias: two identical raw clients; anything but 1.00 is the method's error.
      pairs.add(new Pair("0 control: A/A", l, Variant.RAW_POOLED, Variant.RAW_POOLED, none, none));
    }
    for (Library l : Library.values()) {
      // The same for a connection per request (the legs of questions 2 and 3 are short: 600 requests).
      pairs.add(new Pair("0 control: A/A, a connection per request", l, Variant.NAIVE_SHARED, Variant.NAIVE_SHARED,
          none, none));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("1 adapter overhead", l, Variant.LIB_POOLED, Variant.RAW_POOLED, 0.97, 1.05));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("1a adapter overhead, cap 500 on both", l, Variant.LIB_POOLED_CAPPED,
          Variant.RAW_POOLED_CAPPED, 0.97, 1.05));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("2 server close vs Connection: close", l, Variant.LIB_SERVER_CLOSE,
          Variant.RAW_CONNECTION_CLOSE, 0.90, none));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("3 reset vs naive", l, Variant.LIB_RESET, Variant.NAIVE_SHARED, 0.95, none));
      pairs.add(new Pair("3 reset vs naive", l, Variant.LIB_RESET, Variant.NAIVE_NEW_CLIENT, 0.95, none));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("4 pooled vs per-connection", l, Variant.LIB_POOLED, Variant.LIB_RESET, none, none));
      pairs.add(new Pair("4 pooled vs per-connection", l, Variant.LIB_POOLED, Variant.LIB_SERVER_CLOSE, none, none));
    }
    // Appended, so that the earlier pairs keep their indices (a fork is told its pair by index).
    for (Library l : Library.values()) {
      // Busy connections (never idle 500 ms): what the check's bookkeeping and the retry
      // interceptor cost when no check runs. The target: within 2%.
      pairs.add(new Pair(REUSE_CHECK, l, Variant.LIB_POOLED, Variant.LIB_POOLED_NO_CHECK, 0.98, 1.02));
    }
    for (Library l : Library.values()) {
      pairs.add(new Pair("7 control: A/A for the reuse check", l, Variant.LIB_POOLED, Variant.LIB_POOLED,
          none, none));
    }
    for (Library l : Library.values()) {
      // Diagnostic: pair 1 without the request cap's retirements (the raw side has no cap).
      pairs.add(new Pair("1b adapter overhead, no request cap", l, Variant.LIB_POOLED_NO_CAP,
          Variant.RAW_POOLED, none, none));
    }
    // Diagnostic: what the default cap's retirements cost Reactor Netty's raw client itself.
    pairs.add(new Pair("0 control: the request cap by hand", Library.REACTOR_NETTY, Variant.RAW_POOLED_DEFAULT_CAP,
        Variant.RAW_POOLED, none, none));
    // Pair 1 with the same policy on both sides: the default cap (10,000) written by hand on the raw
    // client, as 1a does with 500 (Reactor Netty: its eviction predicate is the public hook).
    pairs.add(new Pair("1c adapter overhead, default cap on both", Library.REACTOR_NETTY, Variant.LIB_POOLED,
        Variant.RAW_POOLED_DEFAULT_CAP, 0.97, 1.05));
    for (Library l : Library.values()) {
      // Diagnostic: pair 1 after both clients have reconnected in the warm-up (the servers turn
      // their connections over once per warm-up round but the last; none in the measured rounds).
      // Session 9 traced pair 1's gap to the first reconnect after warm-up, which the raw client
      // in pair 1 never makes; a client behind nginx (keepalive_requests 1,000) or a balancer has.
      pairs.add(new Pair("1d adapter overhead, both reconnected in warm-up", l, Variant.LIB_POOLED,
          Variant.RAW_POOLED, 0.97, 1.05, WarmupTurnover.BOTH));
    }
    // Diagnostics for 1d (Reactor Netty, issue 17): only one client reconnects in warm-up, to tell
    // whose reconnect moves the pair.
    pairs.add(new Pair("1e adapter overhead, adapter reconnected in warm-up", Library.REACTOR_NETTY,
        Variant.LIB_POOLED, Variant.RAW_POOLED, none, none, WarmupTurnover.A_ONLY));
    pairs.add(new Pair("1f adapter overhead, raw reconnected in warm-up", Library.REACTOR_NETTY,
        Variant.LIB_POOLED, Variant.RAW_POOLED, none, none, WarmupTurnover.B_ONLY));
    // Diagnostics for OkHttp's pair 1 (issue 19): what OkHttp's own extension points cost the raw
    // client (two interceptors that only proceed; those and a tag and a listener per call, as
    // timewait's pooled configuration uses them), and what timewait adds beyond them (no cap on
    // either side).
    pairs.add(new Pair("0 control: two no-op interceptors", Library.OKHTTP,
        Variant.RAW_POOLED_NOOP_INTERCEPTORS, Variant.RAW_POOLED, none, none));
    pairs.add(new Pair("0 control: OkHttp's hooks by hand", Library.OKHTTP, Variant.RAW_POOLED_HOOKS,
        Variant.RAW_POOLED, none, none));
    pairs.add(new Pair("1g adapter overhead beyond OkHttp's hooks, no request cap", Library.OKHTTP,
        Variant.LIB_POOLED_NO_CAP, Variant.RAW_POOLED_HOOKS, none, none));
    return pairs;
  }

  /**
   * The client-cost pairs of {@code library}: question 1's pooled pairs and question 2's; for
   * OkHttp also two no-op interceptors and its hooks by hand against the raw client, and timewait
   * without the cap against those hooks, against the raw client and against timewait with the cap
   * (issue 19: where OkHttp's CPU and bytes per request go; a round is 10,000 requests on one
   * connection, so with the default cap each of timewait's rounds holds a reconnect that the raw
   * client never makes).
   */
  static List<Variant[]> costPairs(Library library) {
    List<Variant[]> pairs = new ArrayList<>(List.of(
        new Variant[] {Variant.LIB_POOLED, Variant.RAW_POOLED},
        new Variant[] {Variant.LIB_POOLED_CAPPED, Variant.RAW_POOLED_CAPPED},
        new Variant[] {Variant.LIB_POOLED, Variant.LIB_POOLED_NO_CHECK},
        new Variant[] {Variant.LIB_SERVER_CLOSE, Variant.RAW_CONNECTION_CLOSE},
        // Pair 3's deterministic side (issue 19): the reset strategy against the same client with
        // keep-alive off, per connection.
        new Variant[] {Variant.LIB_RESET, Variant.NAIVE_SHARED}));
    if (library == Library.OKHTTP) {
      pairs.add(new Variant[] {Variant.RAW_POOLED_NOOP_INTERCEPTORS, Variant.RAW_POOLED});
      pairs.add(new Variant[] {Variant.RAW_POOLED_HOOKS, Variant.RAW_POOLED});
      pairs.add(new Variant[] {Variant.LIB_POOLED_NO_CAP, Variant.RAW_POOLED_HOOKS});
      pairs.add(new Variant[] {Variant.LIB_POOLED_NO_CAP, Variant.RAW_POOLED});
      pairs.add(new Variant[] {Variant.LIB_POOLED, Variant.LIB_POOLED_NO_CAP});
    }
    return pairs;
  }

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.full();
    String only = null;
    boolean alloc = true;
    boolean load = true;
    Integer forks = null;
    Integer child = null;
    boolean childBFirst = false;
    Integer pacedRounds = null;
    Integer pacedGapMillis = null;
    boolean paced = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> settings = Settings.quick();
        case "--smoke" -> settings = Settings.smoke();
        case "--forks" -> forks = positive(args, ++i);
        case "--concurrency" -> settings = withConcurrency(settings, positive(args, ++i));
        case "--child" -> child = Integer.parseInt(value(args, ++i));
        case "--child-settings" -> settings = Settings.parse(value(args, ++i));
        case "--child-b-first" -> childBFirst = true;
        case "--rounds" -> settings = withRounds(settings, positive(args, ++i));
        case "--leg-ms" -> settings = withLegMillis(settings, positive(args, ++i));
        case "--warmup-rounds" -> settings = withWarmupRounds(settings, positive(args, ++i));
        case "--only" -> only = value(args, ++i);
        case "--no-alloc" -> alloc = false;
        case "--paced-rounds" -> pacedRounds = positive(args, ++i);
        case "--paced-gap-ms" -> pacedGapMillis = positive(args, ++i);
        case "--no-paced" -> paced = false;
        case "--alloc-only" -> load = false;
        case "-h", "--help" -> {
          System.out.println("usage: java -jar timewait-benchmarks.jar [--quick|--smoke] [--forks N] [--rounds N]"
              + " [--leg-ms MS] [--warmup-rounds N] [--only TEXT] [--no-alloc|--alloc-only] [--paced-rounds N] [--paced-gap-ms MS]"
              + " [--no-paced]");
          return;
        }
        default -> {
          System.err.println("unknown argument: " + args[i]);
          System.exit(2);
        }
      }
    }
    if (child != null) {
      Forks.child(child, settings, childBFirst, System.out);
      return;
    }
    if (forks == null) {
      forks = settings.defaultForks();
    }
    PrintStream out = System.out;
    out.println(environment());
    out.println(String.format(Locale.ROOT,
        "settings: %d fork(s) (a fresh JVM per pair and fork) of %d measured rounds after %d warm-up rounds,"
            + " legs of %d ms at concurrency %d, pool size %d,"
            + " per-connection legs capped at %d requests (fresh server ports every round)%n",
        forks, settings.rounds(), settings.warmupRounds(), settings.legMillis(), settings.concurrency(),
        settings.poolSize(), settings.maxPerConnectionRequestsPerLeg()));
    Paced.Settings pacedSettings = Paced.Settings.forRun(settings);
    if (pacedRounds != null) {
      pacedSettings = pacedSettings.withRounds(pacedRounds);
    }
    if (pacedGapMillis != null) {
      pacedSettings = pacedSettings.withGapMillis(pacedGapMillis);
    }
    Report report = run(settings, forks, only, load, alloc, paced ? pacedSettings : null, out);
    out.println();
    out.println(markdown(report));
  }

  /** {@link #run(Settings, int, String, boolean, boolean, PrintStream)} in this JVM alone. */
  static Report run(Settings settings, String only, boolean load, boolean alloc, PrintStream log)
      throws IOException, InterruptedException {
    return run(settings, 1, only, load, alloc, Paced.Settings.forRun(settings), log);
  }

  /** As below, with the paced runs' settings for {@code settings}. */
  static Report run(Settings settings, int forks, String only, boolean load, boolean alloc, PrintStream log)
      throws IOException, InterruptedException {
    return run(settings, forks, only, load, alloc, Paced.Settings.forRun(settings), log);
  }

  /**
   * Runs the pairs whose label contains {@code only} (all if null), each in this JVM ({@code forks}
   * 1) or in {@code forks} fresh JVMs one after another, then question 7's paced runs (in this JVM,
   * unless {@code paced} is null or {@code load} false), then the allocation runs (in this JVM).
   */
  static Report run(Settings settings, int forks, String only, boolean load, boolean alloc, Paced.Settings paced,
      PrintStream log) throws IOException, InterruptedException {
    List<Result> results = new ArrayList<>();
    if (load) {
      PairRunner runner = new PairRunner(settings, log);
      List<Pair> all = pairs();
      for (int index = 0; index < all.size(); index++) {
        Pair pair = all.get(index);
        String label = pair.scenario() + " " + pair.label();
        if (!selected(only, label)) {
          continue;
        }
        long t0 = System.nanoTime();
        Result r = forks == 1 ? runner.run(pair) : Forks.run(index, pair, settings, forks, log);
        results.add(r);
        log.println(String.format(Locale.ROOT,
            "[%s] %s: throughput A/B %s, p50 A/B %s, p99 A/B %s, CPU/request A/B %s"
                + " | pooled over all rounds: throughput A/B %.3f, p99 A/B %.3f | per fork: throughput %s, p99 %s"
                + " | A %.0f req/s p50 %.2f p99 %.2f ms,"
                + " B %.0f req/s p50 %.2f p99 %.2f ms | connections per 1000 requests A %.2f B %.2f"
                + " | TW client/server A %d/%d B %d/%d | %d errors | %.1f s",
            pair.scenario(), pair.label(), r.throughputRatio().format(), r.p50Ratio().format(),
            r.p99Ratio().format(), r.cpuRatio().format(), r.pooledThroughputRatio(), r.pooledP99Ratio(),
            list(r.forkThroughputRatios()), list(r.forkP99Ratios()), r.medianThroughputA(), r.medianP50A(), r.medianP99A(), r.medianThroughputB(),
            r.medianP50B(), r.medianP99B(), r.connectionsPerThousandA(), r.connectionsPerThousandB(),
            r.clientTimeWaitA(), r.serverTimeWaitA(), r.clientTimeWaitB(),
            r.serverTimeWaitB(), r.errors(), (System.nanoTime() - t0) / 1e9));
      }
    }
    List<Paced.Result> pacedResults = new ArrayList<>();
    List<Paced.SocketCalls> socketCalls = new ArrayList<>();
    if (load && paced != null) {
      List<Variant[]> pacedPairs = new ArrayList<>();
      List<Library> pacedLibraries = new ArrayList<>();
      for (Library l : Library.values()) {
        pacedLibraries.add(l);
        pacedPairs.add(new Variant[] {Variant.LIB_POOLED, Variant.LIB_POOLED_NO_CHECK});
      }
      // A diagnostic: HttpClient 5 classic with only the socket layer's check (its own one off).
      pacedLibraries.add(Library.HC5);
      pacedPairs.add(new Variant[] {Variant.LIB_POOLED_OWN_CHECK_OFF, Variant.LIB_POOLED_NO_CHECK});
      for (int i = 0; i < pacedPairs.size(); i++) {
        Library l = pacedLibraries.get(i);
        Variant[] ab = pacedPairs.get(i);
        if (!selected(only, REUSE_CHECK + ", paced " + l.label + ": " + ab[0].label)) {
          continue;
        }
        long t0 = System.nanoTime();
        Paced.Result p = Paced.run(l, ab[0], ab[1], paced);
        pacedResults.add(p);
        log.println(String.format(Locale.ROOT,
            "[%s, paced] %s: %s / %s, %d rounds of a %d ms gap: first request after the gap A %s, B %s ms"
                + " (p50 / p90 / max), A - B %s ms (95%% CI %s); follow-up A %s, B %s ms, A - B %s ms (95%% CI %s);"
                + " new connections A %d B %d; %d errors%s; %.1f s",
            REUSE_CHECK, l.label, p.a().label, p.b().label, paced.rounds(), paced.gapMillis(),
            Paced.Result.quantiles(p.firstA()), Paced.Result.quantiles(p.firstB()), Paced.Result.format(p.firstDifference()),
            Paced.Result.ci(p.firstDifference()), Paced.Result.quantiles(p.followA()), Paced.Result.quantiles(p.followB()),
            Paced.Result.format(p.followDifference()), Paced.Result.ci(p.followDifference()), p.connectionsA(), p.connectionsB(),
            p.errors(), p.firstError() == null ? "" : " (first: " + p.firstError() + ")",
            (System.nanoTime() - t0) / 1e9));
      }
      if (selected(only, REUSE_CHECK + ", socket calls")) {
        Paced.SocketCalls calls = Paced.socketCalls(Math.max(2, paced.rounds() / 2), paced.gapMillis());
        socketCalls.add(calls);
        for (int c = 0; c < Paced.SOCKET_CALLS.length; c++) {
          log.println(String.format(Locale.ROOT,
              "[%s, socket calls] %s after a %d ms gap: with the check %s ms, without %s ms (p50 / p90 / max, %d rounds)",
              REUSE_CHECK, Paced.SOCKET_CALLS[c], calls.gapMillis(), Paced.Result.quantiles(calls.check()[c]),
              Paced.Result.quantiles(calls.noCheck()[c]), calls.rounds()));
        }
      }
    }
    List<Allocation.PerRequest> perRequest = new ArrayList<>();
    List<Allocation.PerRead> perRead = new ArrayList<>();
    List<Allocation.PairedCost> costs = new ArrayList<>();
    if (alloc) {
      boolean smoke = settings.rounds() <= 1 && settings.legMillis() <= 100;
      for (Library l : Library.values()) {
        for (Variant[] ab : costPairs(l)) {
          String question = ab[1] == Variant.LIB_POOLED_NO_CHECK ? REUSE_CHECK + ", cost " : "6 cost ";
          if (!selected(only, question + l.label + " " + ab[0].label + " / " + ab[1].label)) {
            continue;
          }
          // A connection per request: fewer of them (each takes an ephemeral port, and a client
          // that closes first, as raw OkHttp does, holds it in TIME_WAIT for 60 s).
          boolean perConnection = ab[0] == Variant.LIB_SERVER_CLOSE || ab[0] == Variant.LIB_RESET;
          Allocation.PairedCost c = smoke
              ? Allocation.pairedCost(l, ab[0], ab[1], 5, 2, 5)
              : perConnection
                  ? Allocation.pairedCost(l, ab[0], ab[1], 3_000, Math.max(10, settings.rounds()), 1_000)
                  // 15,000 per side and round: a cap of 10,000 (the default) retires a connection
                  // inside each side's requests, not at their end (where the next connect would
                  // hide it).
                  : Allocation.pairedCost(l, ab[0], ab[1], 20_000, Math.max(10, settings.rounds()), 15_000);
          costs.add(c);
          log.println(String.format(Locale.ROOT, "[%s] %s: %s / %s: client CPU per request A/B %s (95%% CI %s),"
                  + " A %.2f µs, B %.2f µs; bytes per request A/B %s, A %.0f, B %.0f; %d errors",
              question.trim(), l.label, ab[0].label, ab[1].label, c.cpuRatio().format(), c.cpuRatio().ci(), c.cpuMicrosA(),
              c.cpuMicrosB(), c.bytesRatio().format(), c.bytesA(), c.bytesB(), c.errors()));
        }
      }
      int warmup = smoke ? 5 : 2000;
      int requests = smoke ? 5 : 2000;
      Variant[] variants = {Variant.RAW_POOLED, Variant.LIB_POOLED, Variant.LIB_POOLED_CAPPED, Variant.LIB_RESET,
          Variant.LIB_SERVER_CLOSE, Variant.RAW_CONNECTION_CLOSE, Variant.NAIVE_SHARED};
      for (Library l : Library.values()) {
        for (Variant v : variants) {
          if (!selected(only, l.label + " " + v.label)) {
            continue;
          }
          Allocation.PerRequest a = Allocation.perRequest(l, v, warmup, requests);
          perRequest.add(a);
          log.println(String.format(Locale.ROOT, "[6 allocation] %s %s: %.0f bytes/request (request thread %.0f),"
              + " client CPU %.1f µs/request, %d errors", l.label, v.label, a.bytesPerRequest(),
              a.requestThreadBytesPerRequest(), a.cpuMicrosPerRequest(), a.errors()));
        }
      }
      int reads = smoke ? 100 : 200_000;
      for (String kind : Allocation.SOCKET_KINDS) {
        for (boolean single : new boolean[] {false, true}) {
          Allocation.PerRead r = Allocation.perRead(kind, single, reads, reads);
          perRead.add(r);
          log.println(String.format(Locale.ROOT, "[6 allocation] %s %s: %.4f bytes/read over %d reads",
              r.socket(), r.call(), r.bytesPerRead(), r.reads()));
        }
      }
    }
    return new Report(results, costs, perRequest, perRead, pacedResults, socketCalls);
  }

  /** The report as Markdown tables. */
  static String markdown(Report report) {
    StringBuilder sb = new StringBuilder();
    if (!report.pairs().isEmpty()) {
      sb.append("| scenario | client | A / B | throughput A/B median (min, max) | p50 A/B | p99 A/B"
          + " | CPU per request A/B | A: req/s, p50, p99 ms, CPU µs/req | B: req/s, p50, p99 ms, CPU µs/req"
          + " | connections per 1,000 requests A; B | TIME_WAIT client/server A; B | per-fork medians: throughput; p99"
          + " | all rounds pooled: throughput; p99 | target |\n");
      sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (Result r : report.pairs()) {
        Pair p = r.pair();
        sb.append(String.format(Locale.ROOT,
            "| %s | %s | %s / %s | %s | %s | %s | %s | %.0f, %.2f, %.2f, %.0f | %.0f, %.2f, %.2f, %.0f | %.2f; %.2f | %s | %s; %s | %.2f; %.2f | %s |\n",
            p.scenario(), p.library().label, p.a().label, p.b().label, r.throughputRatio().format(),
            r.p50Ratio().format(), r.p99Ratio().format(), r.cpuRatio().format(), r.medianThroughputA(),
            r.medianP50A(), r.medianP99A(), r.medianCpuA(), r.medianThroughputB(), r.medianP50B(), r.medianP99B(),
            r.medianCpuB(), r.connectionsPerThousandA(), r.connectionsPerThousandB(),
            r.kernelCounted()
                ? r.clientTimeWaitA() + "/" + r.serverTimeWaitA() + "; " + r.clientTimeWaitB() + "/" + r.serverTimeWaitB()
                : "n/a",
            list(r.forkThroughputRatios()), list(r.forkP99Ratios()), r.pooledThroughputRatio(), r.pooledP99Ratio(),
            r.targetVerdict() + (r.errors() > 0 ? " (" + r.errors() + " errors)" : "")));
      }
    }
    if (!report.paced().isEmpty()) {
      sb.append("\n| client | A / B | rounds, gap | first request after the gap, A: p50 / p90 / max ms"
          + " | B: p50 / p90 / max ms | A - B, median (min, max) ms | 95% CI | follow-up (busy), A: p50 / p90 / max ms"
          + " | B | A - B, median (95% CI) ms | new connections A; B | errors |\n");
      sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (Paced.Result p : report.paced()) {
        sb.append(String.format(Locale.ROOT, "| %s | %s / %s | %d, %d ms | %s | %s | %s | %s | %s | %s | %s (%s) | %d; %d | %d |\n",
            p.library().label, p.a().label, p.b().label, p.settings().rounds(), p.settings().gapMillis(),
            Paced.Result.quantiles(p.firstA()), Paced.Result.quantiles(p.firstB()), Paced.Result.format(p.firstDifference()),
            Paced.Result.ci(p.firstDifference()), Paced.Result.quantiles(p.followA()), Paced.Result.quantiles(p.followB()),
            String.format(Locale.ROOT, "%.3f", p.followDifference().median()), Paced.Result.ci(p.followDifference()),
            p.connectionsA(), p.connectionsB(), p.errors()));
      }
    }
    for (Paced.SocketCalls calls : report.socketCalls()) {
      sb.append(String.format(Locale.ROOT, "%n| call on an idle pooled `TimeWaitSocket`, in this order, after a %d ms gap"
          + " | with the check: p50 / p90 / max ms | without: p50 / p90 / max ms |%n", calls.gapMillis()));
      sb.append("|---|---|---|\n");
      for (int c = 0; c < Paced.SOCKET_CALLS.length; c++) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %s |%n", Paced.SOCKET_CALLS[c],
            Paced.Result.quantiles(calls.check()[c]), Paced.Result.quantiles(calls.noCheck()[c])));
      }
    }
    if (!report.costs().isEmpty()) {
      sb.append("\n| client | A / B | client CPU per request A/B, median (min, max) | 95% CI | A, B µs/request"
          + " | bytes per request A/B | A, B bytes/request |\n");
      sb.append("|---|---|---|---|---|---|---|\n");
      for (Allocation.PairedCost c : report.costs()) {
        sb.append(String.format(Locale.ROOT, "| %s | %s / %s | %s | %s | %.2f, %.2f | %s | %,.0f, %,.0f |\n",
            c.library().label, c.a().label, c.b().label, c.cpuRatio().format(), c.cpuRatio().ci(), c.cpuMicrosA(),
            c.cpuMicrosB(), c.bytesRatio().format(), c.bytesA(), c.bytesB()));
      }
    }
    if (!report.perRequest().isEmpty()) {
      sb.append("\n| client | strategy | bytes allocated per request (all client threads) | of which the request thread"
          + " | client CPU µs per request (sequential) |\n");
      sb.append("|---|---|---:|---:|---:|\n");
      for (Allocation.PerRequest a : report.perRequest()) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %.1f |\n", a.library().label,
            a.variant().label, a.bytesPerRequest(), a.requestThreadBytesPerRequest(), a.cpuMicrosPerRequest()));
      }
    }
    if (!report.perRead().isEmpty()) {
      sb.append("\n| socket | call | reads | bytes allocated per read |\n");
      sb.append("|---|---|---:|---:|\n");
      for (Allocation.PerRead r : report.perRead()) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.4f |\n", r.socket(), r.call(), r.reads(),
            r.bytesPerRead()));
      }
    }
    return sb.toString();
  }

  /** Machine, JDK and library versions. */
  static String environment() {
    String cpu = "unknown";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name")).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return String.format(Locale.ROOT,
        "machine: %d CPUs (%s), %s %s; JDK %s (%s); httpclient5 %s, httpcore5 %s, okhttp %s, timewait %s",
        Runtime.getRuntime().availableProcessors(), cpu, System.getProperty("os.name"),
        System.getProperty("os.version"), System.getProperty("java.runtime.version"), System.getProperty("java.vm.name"),
        version("org.apache.httpcomponents.client5", "httpclient5"),
        version("org.apache.httpcomponents.core5", "httpcore5"),
        okhttp3.OkHttp.VERSION, version("dev.timewait", "timewait-core"));
  }

  private static String version(String group, String artifact) {
    String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = Benchmarks.class.getResourceAsStream(resource)) {
      if (in == null) {
        return "?";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "?");
    } catch (IOException e) {
      return "?";
    }
  }

  /** "0.98, 1.01, 0.99". */
  static String list(List<Double> values) {
    StringBuilder sb = new StringBuilder();
    for (double v : values) {
      sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", v));
    }
    return sb.toString();
  }

  /**
   * The pool grows with the threads (both sides' pools: they share the setting): at 4 slots for 8
   * threads, the raw per-connection sides on HttpClient's pools waited for a lease, where
   * timewait's server close and reset have 64 slots.
   */
  private static Settings withConcurrency(Settings s, int concurrency) {
    return new Settings(s.rounds(), s.warmupRounds(), s.legMillis(), concurrency, Math.max(s.poolSize(), concurrency),
        s.maxPerConnectionRequestsPerLeg(), s.maxPooledRequestsPerLeg());
  }

  private static Settings withRounds(Settings s, int rounds) {
    return new Settings(rounds, s.warmupRounds(), s.legMillis(), s.concurrency(), s.poolSize(),
        s.maxPerConnectionRequestsPerLeg(), s.maxPooledRequestsPerLeg());
  }

  private static Settings withWarmupRounds(Settings s, int warmupRounds) {
    return new Settings(s.rounds(), warmupRounds, s.legMillis(), s.concurrency(), s.poolSize(),
        s.maxPerConnectionRequestsPerLeg(), s.maxPooledRequestsPerLeg());
  }

  private static Settings withLegMillis(Settings s, int legMillis) {
    return new Settings(s.rounds(), s.warmupRounds(), legMillis, s.concurrency(), s.poolSize(),
        s.maxPerConnectionRequestsPerLeg(), s.maxPooledRequestsPerLeg());
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      System.err.println(args[i - 1] + " needs a value");
      System.exit(2);
    }
    return args[i];
  }

  private static int positive(String[] args, int i) {
    String v = value(args, i);
    try {
      int n = Integer.parseInt(v);
      if (n > 0 && n <= 1_000_000) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    System.err.println(args[i - 1] + " must be a positive number, but was " + v);
    System.exit(2);
    return 0;
  }

  /**
   * Whether {@code --only}'s value picks {@code label}: no value picks all; otherwise any of its
   * {@code |}-separated parts occurring in the label (e.g. {@code "0 control: A/A|1 adapter"}).
   */
  static boolean selected(String only, String label) {
    if (only == null) {
      return true;
    }
    for (String part : only.split("\\|")) {
      if (!part.isEmpty() && label.contains(part)) {
        return true;
      }
    }
    return false;
  }
}
