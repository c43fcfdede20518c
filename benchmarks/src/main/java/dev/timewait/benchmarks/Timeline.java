package dev.timewait.benchmarks;

import dev.timewait.PooledKeepAlive;
import java.time.Duration;
import java.util.Locale;

/**
 * One pooled Reactor Netty client alone in this JVM for a long run, printing requests per second
 * slice by slice, with a request cap of {@code cap} per connection (0: none): raw with the cap as
 * an eviction predicate ({@link BenchClient#reactorNettyCappedByHand}), or timewait with {@code
 * maxRequestsPerConnection(cap)}.
 *
 * <pre>
 * for c in 0 100000 10000; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Timeline raw $c 80 4
 * done
 * </pre>
 *
 * <p>Why: the pairs' forks carry about 35,000 requests per connection, so a cap above that never
 * retires a connection inside them; a run this long shows whether a retirement's cost persists
 * (retirements every few seconds kept the JIT deoptimizing in session 9, docs/benchmarks.md
 * section 14) or passes. A diagnostic, not part of the benchmark's report; whole JVMs vary by
 * 10-20% here, so alternate many.
 */
final class Timeline {
  private static final int POOL = 4;

  private Timeline() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !(args[0].equals("raw") || args[0].equals("timewait"))) {
      throw new IllegalArgumentException("usage: Timeline raw|timewait CAP SECONDS SLICE_SECONDS");
    }
    String mode = args[0];
    int cap = Args.atLeast("cap", args[1], 0);
    int seconds = Args.atLeast("seconds", args[2], 1);
    int slice = Args.atLeast("slice", args[3], 1);
    BenchClient client;
    if (mode.equals("raw") && cap > 0) {
      client = BenchClient.reactorNettyCappedByHand("raw", POOL, cap);
    } else if (mode.equals("raw")) {
      client = BenchClient.of(BenchClient.Library.REACTOR_NETTY, BenchClient.Variant.RAW_POOLED, POOL);
    } else {
      client = BenchClient.reactorNettyTimewait(PooledKeepAlive.builder().maxTotal(POOL).maxPerRoute(POOL)
          .maxRequestsPerConnection(cap > 0 ? cap : Integer.MAX_VALUE).build());
    }
    StringBuilder line = new StringBuilder(mode + " cap " + cap + ":");
    long total = 0;
    long start = System.nanoTime();
    try (BenchServer server = new BenchServer(); client) {
      for (int t = 0; t < seconds; t += slice) {
        long t0 = System.nanoTime();
        int[] r = CpuProfile.drive(client, server.uri(), POOL, Duration.ofSeconds(slice));
        total += r[0];
        line.append(String.format(Locale.ROOT, " %.1fk", r[0] * 1e6 / (System.nanoTime() - t0)));
        if (r[1] > 0) {
          line.append(" (").append(r[1]).append(" errors)");
        }
      }
    }
    System.out.println(line + String.format(Locale.ROOT, " | %d requests, %.1fk/s",
        total, total * 1e6 / (System.nanoTime() - start)));
    System.exit(0); // Reactor Netty's event loops are non-daemon threads
  }
}
