package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.net.URI;
import java.util.Locale;
import java.util.Map;

/**
 * What a second OkHttp client's idle connection costs the first one: raw OkHttp (pool size 1),
 * sequential requests, in rounds that alternate "alone" (the other client's pool empty) and
 * "beside an idle pool" (the other client holding one idle connection), printing each round's
 * client CPU per request and the part of it on OkHttp's task-runner threads.
 *
 * <pre>
 * java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.OkHttpTaskRunner [--rounds 10]
 * </pre>
 *
 * <p>Why it matters to the harness: OkHttp's task runner is one per JVM, so two clients measured in
 * one JVM are not independent (see {@link BenchClient#closeIdle}); the client-cost measure empties
 * both pools before each side's requests. A diagnostic, not part of the benchmark's report.
 */
final class OkHttpTaskRunner {
  private static final int WARMUP = 20_000;
  private static final int REQUESTS = 10_000;

  private OkHttpTaskRunner() {}

  public static void main(String[] args) throws Exception {
    int rounds = 10;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (args[i].equals("--rounds")) {
        rounds = Args.atLeast("--rounds", value, 1);
      } else {
        throw new IllegalArgumentException("argument unknown: " + args[i] + "; usage: [--rounds N]");
      }
      i++;
    }
    double[][] cpu = new double[2][rounds];
    double[][] runner = new double[2][rounds];
    String[] labels = {"alone", "beside an idle pool"};
    try (BenchServer server = new BenchServer(); BenchServer otherServer = new BenchServer();
        BenchClient client = BenchClient.of(Library.OKHTTP, Variant.RAW_POOLED, 1);
        BenchClient other = BenchClient.of(Library.OKHTTP, Variant.RAW_POOLED, 1)) {
      URI uri = server.uri();
      for (int i = 0; i < WARMUP; i++) {
        client.get(uri);
      }
      for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < 2; k++) {
          int side = round % 2 == 0 ? k : 1 - k; // A B, B A, ...
          other.closeIdle();
          if (side == 1) {
            other.get(otherServer.uri()); // leaves one idle connection in the other pool
          }
          client.closeIdle();
          Map<Long, Long> before = Allocation.clientSideCpu();
          for (int i = 0; i < REQUESTS; i++) {
            client.get(uri);
          }
          Map<Long, Long> after = Allocation.clientSideCpu();
          long onRunner = 0;
          for (Thread t : Thread.getAllStackTraces().keySet()) {
            Long now = after.get(t.getId());
            // Runner threads are named "OkHttp TaskRunner", or after the task they run ("OkHttp
            // ConnectionPool connection closer"); OkHttp's other threads are Okio's watchdog and
            // the dispatcher's, which sequential calls on this thread do not use.
            if (now != null && t.getName().startsWith("OkHttp ")) {
              onRunner += now - before.getOrDefault(t.getId(), 0L);
            }
          }
          cpu[side][round] = Allocation.growth(before, after) / 1e3 / REQUESTS;
          runner[side][round] = onRunner / 1e3 / REQUESTS;
          System.out.println(String.format(Locale.ROOT, "round %d, %s: client CPU %.1f µs per request, on OkHttp's task runner %.1f µs",
              round, labels[side], cpu[side][round], runner[side][round]));
        }
      }
    }
    for (int side = 0; side < 2; side++) {
      System.out.println(String.format(Locale.ROOT, "%s: median client CPU %.1f µs per request, on the task runner %.1f µs (%d rounds of %,d)",
          labels[side], Stats.Spread.of(cpu[side]).median(), Stats.Spread.of(runner[side]).median(), rounds, REQUESTS));
    }
  }
}
