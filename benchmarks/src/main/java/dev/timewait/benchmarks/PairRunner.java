package dev.timewait.benchmarks;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpTable;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one {@link Pair}: both clients built once, each against its own {@link BenchServer} (two
 * identical servers, so that the kernel's TIME_WAIT counts tell the legs apart), then warm-up
 * rounds, then measured rounds, each round one leg of A and one of B, the order flipped every
 * round (A B, B A, A B ...). Each leg runs {@code concurrency} threads for {@code legMillis} (or
 * until its request cap) and yields throughput and p50/p99 latency; each round yields the ratios
 * A/B, so that whatever else the shared machine does during a round weighs on both legs alike.
 * Pairs with a connection-per-request leg get two fresh server ports per round, keeping the
 * connections towards any one port far below the ephemeral port budget.
 *
 * <p>Not thread-safe: one pair at a time.
 */
final class PairRunner {
  /**
   * Which servers turn over every connection at the start of each warm-up round but the last
   * ({@link BenchServer#turnOver()}), so that their clients have reconnected before the measured
   * rounds. One side only tells which client's reconnect changes the pair.
   */
  enum WarmupTurnover {
    NONE(false, false), BOTH(true, true), A_ONLY(true, false), B_ONLY(false, true);

    final boolean a;
    final boolean b;

    WarmupTurnover(boolean a, boolean b) {
      this.a = a;
      this.b = b;
    }
  }

  /** One A/B comparison and its targets (NaN: none), and which servers turn over in warm-up. */
  record Pair(String scenario, BenchClient.Library library, BenchClient.Variant a, BenchClient.Variant b,
      double minThroughputRatio, double maxP99Ratio, WarmupTurnover turnover) {
    Pair(String scenario, BenchClient.Library library, BenchClient.Variant a, BenchClient.Variant b,
        double minThroughputRatio, double maxP99Ratio) {
      this(scenario, library, a, b, minThroughputRatio, maxP99Ratio, WarmupTurnover.NONE);
    }

    boolean reconnectsInWarmup() {
      return turnover != WarmupTurnover.NONE;
    }

    String label() {
      return library.label + ": " + a.label + " / " + b.label;
    }

    boolean perConnection() {
      return a.perConnection() || b.perConnection();
    }
  }

  /** How long and how hard. */
  record Settings(int rounds, int warmupRounds, long legMillis, int concurrency, int poolSize,
      int maxPerConnectionRequestsPerLeg, int maxPooledRequestsPerLeg) {
    static Settings full() {
      return new Settings(12, 2, 500, 4, 4, 600, 400_000);
    }

    static Settings quick() {
      return new Settings(8, 2, 200, 4, 4, 400, 100_000);
    }

    /** A smoke pass: completes, proves nothing about speed. */
    static Settings smoke() {
      return new Settings(1, 0, 100, 2, 2, 20, 200);
    }

    /** Forks per pair unless told: 3 for a full run, 2 for a quick one, 1 (this JVM) for a smoke pass. */
    int defaultForks() {
      if (rounds <= 1) {
        return 1;
      }
      return rounds < 12 ? 2 : 3;
    }

    /** The settings that {@code rounds,warmup,legMillis,concurrency,pool,perConnectionCap,pooledCap} name. */
    static Settings parse(String text) {
      String[] v = text.split(",");
      return new Settings(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Long.parseLong(v[2]),
          Integer.parseInt(v[3]), Integer.parseInt(v[4]), Integer.parseInt(v[5]), Integer.parseInt(v[6]));
    }
  }

  /** One leg: how many requests, how long, how fast. */
  record Leg(int requests, int errors, String firstError, long elapsedNanos, double p50Ms, double p99Ms,
      long processCpuNanos, int connections) {
    double throughput() {
      return requests * 1e9 / elapsedNanos;
    }

    /** CPU time of the whole process (clients and server) per request, in microseconds. */
    double cpuMicrosPerRequest() {
      return processCpuNanos / 1e3 / Math.max(1, requests);
    }
  }

  /** A pair's result over its measured rounds. */
  record Result(Pair pair, List<Leg> legsA, List<Leg> legsB, Stats.Spread throughputRatio,
      Stats.Spread p50Ratio, Stats.Spread p99Ratio, Stats.Spread cpuRatio, int clientTimeWaitA, int serverTimeWaitA,
      int clientTimeWaitB, int serverTimeWaitB, boolean kernelCounted, Histogram histogramA, Histogram histogramB,
      List<Double> forkThroughputRatios, List<Double> forkP99Ratios) {
    /**
     * The result of {@code legsA} and {@code legsB} (round by round: element i of each is one
     * round), the TIME_WAIT counts {@code tw} (client A, server A, client B, server B), and each
     * side's latencies pooled; {@code forks} holds each JVM's own (median throughput ratio,
     * median p99 ratio).
     */
    static Result of(Pair pair, List<Leg> legsA, List<Leg> legsB, int[] tw, boolean counted,
        Histogram histogramA, Histogram histogramB, List<double[]> forks) {
      double[] thr = new double[legsA.size()];
      double[] p50 = new double[legsA.size()];
      double[] p99 = new double[legsA.size()];
      double[] cpu = new double[legsA.size()];
      for (int i = 0; i < thr.length; i++) {
        cpu[i] = legsA.get(i).cpuMicrosPerRequest() / legsB.get(i).cpuMicrosPerRequest();
        thr[i] = legsA.get(i).throughput() / legsB.get(i).throughput();
        p50[i] = legsA.get(i).p50Ms() / legsB.get(i).p50Ms();
        p99[i] = legsA.get(i).p99Ms() / legsB.get(i).p99Ms();
      }
      Stats.Spread throughput = Stats.Spread.of(thr);
      Stats.Spread p99Spread = Stats.Spread.of(p99);
      List<double[]> perFork = forks.isEmpty()
          ? List.<double[]>of(new double[] {throughput.median(), p99Spread.median()}) : forks;
      return new Result(pair, legsA, legsB, throughput, Stats.Spread.of(p50), p99Spread, Stats.Spread.of(cpu),
          tw[0], tw[1], tw[2], tw[3], counted, histogramA, histogramB,
          perFork.stream().map(f -> f[0]).toList(), perFork.stream().map(f -> f[1]).toList());
    }

    /**
     * Throughput over all measured legs pooled, A/B: each side's requests over its legs' summed
     * time. A check on the median of per-round ratios, not a replacement.
     */
    double pooledThroughputRatio() {
      return pooledThroughput(legsA) / pooledThroughput(legsB);
    }

    /** p99 latency of all of A's measured requests over that of all of B's. */
    double pooledP99Ratio() {
      return histogramA.quantileMillis(0.99) / histogramB.quantileMillis(0.99);
    }

    private static double pooledThroughput(List<Leg> legs) {
      long requests = legs.stream().mapToLong(Leg::requests).sum();
      long nanos = legs.stream().mapToLong(Leg::elapsedNanos).sum();
      return requests * 1e9 / Math.max(1, nanos);
    }

    double medianThroughputA() {
      return Stats.Spread.of(legsA.stream().mapToDouble(Leg::throughput).toArray()).median();
    }

    double medianThroughputB() {
      return Stats.Spread.of(legsB.stream().mapToDouble(Leg::throughput).toArray()).median();
    }

    double medianCpuA() {
      return Stats.Spread.of(legsA.stream().mapToDouble(Leg::cpuMicrosPerRequest).toArray()).median();
    }

    double medianCpuB() {
      return Stats.Spread.of(legsB.stream().mapToDouble(Leg::cpuMicrosPerRequest).toArray()).median();
    }

    double medianP50A() {
      return Stats.Spread.of(legsA.stream().mapToDouble(Leg::p50Ms).toArray()).median();
    }

    double medianP50B() {
      return Stats.Spread.of(legsB.stream().mapToDouble(Leg::p50Ms).toArray()).median();
    }

    double medianP99A() {
      return Stats.Spread.of(legsA.stream().mapToDouble(Leg::p99Ms).toArray()).median();
    }

    double medianP99B() {
      return Stats.Spread.of(legsB.stream().mapToDouble(Leg::p99Ms).toArray()).median();
    }

    /** Connections the server accepted per 1,000 requests, over all of A's measured legs. */
    double connectionsPerThousandA() {
      return perThousand(legsA);
    }

    /** Connections the server accepted per 1,000 requests, over all of B's measured legs. */
    double connectionsPerThousandB() {
      return perThousand(legsB);
    }

    private static double perThousand(List<Leg> legs) {
      long requests = legs.stream().mapToLong(Leg::requests).sum();
      long connections = legs.stream().mapToLong(Leg::connections).sum();
      return requests == 0 ? Double.NaN : connections * 1000.0 / requests;
    }

    int errors() {
      return legsA.stream().mapToInt(Leg::errors).sum() + legsB.stream().mapToInt(Leg::errors).sum();
    }

    /**
     * Met, missed or unresolved against the pair's target (and issue 19's, where it sets one).
     * With six forks or more, the forks decide: rounds of one JVM share its JIT's outcome and are
     * not independent (session 16: two runs of pair 1, rounds' intervals 0.89-0.96 and 0.84-0.88),
     * so the 95% interval over the forks' medians is the honest one: met if it lies at or past the
     * target, missed if it lies short of it, unresolved if it holds it; the point is the forks'
     * median. With fewer forks, the median of the rounds' ratios decides, and the verdict says so.
     */
    String targetVerdict() {
      List<String> parts = new ArrayList<>();
      Issue19 issue19 = Issue19.of(pair);
      if (!Double.isNaN(pair.minThroughputRatio())) {
        parts.add(verdict("thr >= ", pair.minThroughputRatio(), true, throughputRatio, forkThroughputRatios));
      }
      if (!Double.isNaN(issue19.minThroughputRatio())) {
        parts.add("issue 19: " + verdict("thr >= ", issue19.minThroughputRatio(), true, throughputRatio,
            forkThroughputRatios));
      }
      if (!Double.isNaN(pair.maxP99Ratio())) {
        parts.add(verdict("p99 <= ", pair.maxP99Ratio(), false, p99Ratio, forkP99Ratios));
      }
      if (!Double.isNaN(issue19.maxP99Ratio())) {
        parts.add("issue 19: " + verdict("p99 <= ", issue19.maxP99Ratio(), false, p99Ratio, forkP99Ratios));
      }
      return parts.isEmpty() ? "-" : String.join("; ", parts);
    }

    private static String verdict(String what, double target, boolean atLeast, Stats.Spread rounds,
        List<Double> forkRatios) {
      double[] medians = forkRatios.stream().mapToDouble(Double::doubleValue).toArray();
      Stats.Spread forks = Stats.Spread.of(medians);
      String head = what + String.format(Locale.ROOT, "%.2f", target) + ": ";
      if (medians.length >= 2 && Stats.signTestRank(medians.length) > 0) {
        boolean met = atLeast ? forks.ciLow() >= target : forks.ciHigh() <= target;
        boolean missed = atLeast ? forks.ciHigh() < target : forks.ciLow() > target;
        String word = met ? "met" : missed ? "MISSED" : "unresolved";
        return head + word + String.format(Locale.ROOT, " (forks' median %.2f, 95%% CI %s over %d forks;"
            + " rounds' median %.2f, CI %s)", forks.median(), forks.ci(), medians.length, rounds.median(),
            rounds.ci());
      }
      boolean met = atLeast ? rounds.median() >= target : rounds.median() <= target;
      String forksPart = medians.length >= 2
          ? "; forks' medians " + forks.ci() + ", too few forks for a 95% interval" : "";
      return head + (met ? "met" : "MISSED") + " by the rounds' median"
          + String.format(Locale.ROOT, " (%.2f, 95%% CI %s over rounds%s)", rounds.median(), rounds.ci(),
              forksPart);
    }
  }

  /**
   * Issue 19's targets, beyond issues 16 and 17's in {@link Pair}: pair 1 (OkHttp's throughput and
   * p99, hc5-async's p99), pair 2 and pair 3 (against the same client with keep-alive off) of every client. NaN where it
   * sets none.
   */
  record Issue19(double minThroughputRatio, double maxP99Ratio) {
    static final Issue19 NONE = new Issue19(Double.NaN, Double.NaN);

    static Issue19 of(Pair pair) {
      String scenario = pair.scenario();
      if (scenario.equals("1 adapter overhead")) {
        return switch (pair.library()) {
          case OKHTTP -> new Issue19(0.99, 1.03);
          case HC5_ASYNC -> new Issue19(Double.NaN, 1.03);
          default -> NONE;
        };
      }
      if (scenario.equals("2 server close vs Connection: close")) {
        return new Issue19(0.97, Double.NaN);
      }
      if (scenario.equals("3 reset vs naive") && pair.b() == BenchClient.Variant.NAIVE_SHARED) {
        return new Issue19(0.99, Double.NaN);
      }
      return NONE;
    }
  }

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** The host-wide TIME_WAIT total above which per-connection rounds wait. */
  static final long TIME_WAIT_LIMIT = 40_000;

  private final Settings settings;
  private final PrintStream log;

  PairRunner(Settings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  Result run(Pair pair) throws IOException, InterruptedException {
    return run(pair, false);
  }

  /**
   * Runs {@code pair}, building (and starting the server of) B before A if {@code bFirst}. The
   * client built first runs slower in long runs: with 60 warm-up rounds Reactor Netty's A/A
   * control gave 0.96 (docs/benchmarks.md, session 20), so {@link Forks} builds B first in every
   * second fork, and the order's bias falls on both sides alike.
   */
  Result run(Pair pair, boolean bFirst) throws IOException, InterruptedException {
    int c = settings.concurrency();
    int cap = pair.perConnection() ? settings.maxPerConnectionRequestsPerLeg() : settings.maxPooledRequestsPerLeg();
    long[][] latencies = new long[c][cap];
    List<Leg> legsA = new ArrayList<>();
    List<Leg> legsB = new ArrayList<>();
    int[] tw = new int[4];
    boolean counted = TcpTable.system().isSupported();
    Histogram histogramA = new Histogram();
    Histogram histogramB = new Histogram();
    AtomicInteger threadIds = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(c, r -> {
      Thread t = new Thread(r, "bench-client-" + threadIds.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    BenchServer serverA = null;
    BenchServer serverB = null;
    try (BenchClient first = BenchClient.of(pair.library(), bFirst ? pair.b() : pair.a(), settings.poolSize());
        BenchClient second = BenchClient.of(pair.library(), bFirst ? pair.a() : pair.b(), settings.poolSize())) {
      BenchClient a = bFirst ? second : first;
      BenchClient b = bFirst ? first : second;
      for (int round = -settings.warmupRounds(); round < settings.rounds(); round++) {
        if (pair.perConnection()) {
          awaitTimeWaitBelowLimit();
        }
        if (serverA == null) {
          BenchServer firstServer = new BenchServer();
          BenchServer secondServer = new BenchServer();
          serverA = bFirst ? secondServer : firstServer;
          serverB = bFirst ? firstServer : secondServer;
        }
        if (round < -1) {
          if (pair.turnover().a) {
            serverA.turnOver();
          }
          if (pair.turnover().b) {
            serverB.turnOver();
          }
        }
        boolean aFirst = Math.floorMod(round, 2) == 0;
        Leg legA;
        Leg legB;
        if (aFirst) {
          legA = leg(a, serverA, workers, latencies, cap, round >= 0 ? histogramA : null);
          legB = leg(b, serverB, workers, latencies, cap, round >= 0 ? histogramB : null);
        } else {
          legB = leg(b, serverB, workers, latencies, cap, round >= 0 ? histogramB : null);
          legA = leg(a, serverA, workers, latencies, cap, round >= 0 ? histogramA : null);
        }
        if (round >= 0) {
          legsA.add(legA);
          legsB.add(legB);
        }
        if (pair.perConnection()) {
          if (round >= 0 && counted) {
            addTimeWait(tw, serverA.port(), serverB.port());
          }
          serverA.close();
          serverB.close();
          serverA = null;
          serverB = null;
        }
      }
    } finally {
      workers.shutdownNow();
      if (serverA != null) {
        if (counted) {
          addTimeWait(tw, serverA.port(), serverB.port()); // the pooled clients are closed now
        }
        serverA.close();
        serverB.close();
      }
    }
    return Result.of(pair, legsA, legsB, tw, counted, histogramA, histogramB, List.of());
  }

  /**
   * The machine is shared, and the kernel keeps at most {@code tcp_max_tw_buckets} TIME_WAIT
   * sockets (131,072 here) before it drops new ones, which would falsify anyone's TIME_WAIT counts:
   * before a round with connection-per-request legs, wait (at most 90 s) until the host's TIME_WAIT
   * total ({@code /proc/net/sockstat}) is below {@link #TIME_WAIT_LIMIT}.
   */
  private void awaitTimeWaitBelowLimit() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    long tw = KernelCounters.systemTimeWait();
    if (tw > TIME_WAIT_LIMIT && log != null) {
      log.println("    waiting for the host's TIME_WAIT (" + tw + ") to fall below " + TIME_WAIT_LIMIT);
    }
    while (tw > TIME_WAIT_LIMIT && System.nanoTime() - deadline < 0) {
      Thread.sleep(1000);
      tw = KernelCounters.systemTimeWait();
    }
  }

  /**
   * Adds the client-side and server-side TIME_WAIT towards and on both ports, after a short
   * settle, to {@code tw}: {client A, server A, client B, server B}. Also {@link ResetParts}'s.
   */
  static void addTimeWait(int[] tw, int portA, int portB) throws InterruptedException {
    Thread.sleep(100); // closes that finish after the last response (async FIN waits, pool cleanup)
    List<TcpCounts> counts = TcpTable.system().count(List.of(
        TcpFilter.remotePort(portA), TcpFilter.localPort(portA),
        TcpFilter.remotePort(portB), TcpFilter.localPort(portB)));
    for (int i = 0; i < 4; i++) {
      tw[i] += counts.get(i).timeWait();
    }
  }

  /** Runs one leg; records its latencies in {@code histogram} unless that is null (warm-up). */
  private Leg leg(BenchClient client, BenchServer server, ExecutorService workers, long[][] latencies, int cap,
      Histogram histogram) throws InterruptedException {
    URI uri = server.uri();
    int acceptedBefore = server.accepted();
    int c = latencies.length;
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    int[] counts = new int[c];
    long[] finished = new long[c];
    CountDownLatch ready = new CountDownLatch(c);
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(c);
    long[] startAndDeadline = new long[2];
    for (int w = 0; w < c; w++) {
      int worker = w;
      workers.execute(() -> {
        long[] mine = latencies[worker];
        int n = 0;
        try {
          ready.countDown();
          go.await(); // the leg's clock starts once every worker runs: a stalled thread start is not the client's
          long deadline = startAndDeadline[1];
          // At least one request per worker, so that a leg stalled past its deadline still measures something.
          while ((n == 0 || System.nanoTime() - deadline < 0) && issued.getAndIncrement() < cap) {
            long t0 = System.nanoTime();
            try {
              int status = client.get(uri);
              if (status != 200) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, "status " + status);
              }
            } catch (Exception e) {
              errors.incrementAndGet();
              firstError.compareAndSet(null, e.toString());
            }
            mine[n++] = System.nanoTime() - t0;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          counts[worker] = n;
          finished[worker] = System.nanoTime();
          done.countDown();
        }
      });
    }
    if (!ready.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the leg's threads did not start within 60 s");
    }
    long cpuStart = OS.getProcessCpuTime();
    long start = System.nanoTime();
    startAndDeadline[0] = start;
    startAndDeadline[1] = start + TimeUnit.MILLISECONDS.toNanos(settings.legMillis());
    go.countDown();
    if (!done.await(settings.legMillis() + 120_000, TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("a leg did not finish within its bound: " + uri);
    }
    long cpuEnd = OS.getProcessCpuTime();
    long end = Arrays.stream(finished).max().orElse(start);
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int k = 0;
    for (int w = 0; w < c; w++) {
      System.arraycopy(latencies[w], 0, all, k, counts[w]);
      k += counts[w];
    }
    Arrays.sort(all);
    if (histogram != null) {
      for (long nanos : all) {
        histogram.record(nanos);
      }
    }
    if (errors.get() > 0 && log != null) {
      log.println("    " + errors.get() + " errors, first: " + firstError.get());
    }
    return new Leg(total - errors.get(), errors.get(), firstError.get(), Math.max(1, end - start),
        Stats.rank(all, total, 0.50) / 1e6, Stats.rank(all, total, 0.99) / 1e6,
        cpuEnd - cpuStart, server.accepted() - acceptedBefore);
  }
}
