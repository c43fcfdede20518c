package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;

/**
 * One variant alone in this JVM, as a user's service runs one client: warm-up, then a few
 * measured legs at a concurrency, printing one line of requests per second and process CPU time
 * per request (the server's threads included: it runs in this JVM).
 *
 * <pre>
 * for i in 1 2 3 4 5 6 7 8; do for v in "raw pooled" "timewait pooled"; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Solo \
 *       --library reactor-netty --variant "$v" [--concurrency 4] [--warmup-seconds 15] [--legs 3] [--leg-seconds 2]
 * done; done
 * </pre>
 *
 * <p>The benchmark's pairs run both variants in one JVM, where the JIT compiles the client's and
 * Netty's shared code for both at once; alternating whole JVMs shows each variant with the code
 * compiled for it alone, at the price of more noise between runs (so: many runs, alternated). A
 * diagnostic, not part of the benchmark's report.
 */
final class Solo {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private Solo() {}

  public static void main(String[] args) throws Exception {
    Library library = Library.REACTOR_NETTY;
    Variant variant = Variant.RAW_POOLED;
    int concurrency = 4;
    int warmupSeconds = 15;
    int legs = 3;
    int legSeconds = 2;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--library" -> library = AllocationSites.library(value);
        case "--variant" -> variant = AllocationSites.variant(value);
        case "--concurrency" -> concurrency = Args.atLeast("--concurrency", value, 1);
        case "--warmup-seconds" -> warmupSeconds = Args.atLeast("--warmup-seconds", value, 0);
        case "--legs" -> legs = Args.atLeast("--legs", value, 1);
        case "--leg-seconds" -> legSeconds = Args.atLeast("--leg-seconds", value, 1);
        default -> throw new IllegalArgumentException("argument unknown: " + args[i]
            + "; usage: [--library L] [--variant V] [--concurrency N] [--warmup-seconds S] [--legs N] [--leg-seconds S]");
      }
      i++;
    }
    long requests = 0;
    long errors = 0;
    long nanos = 0;
    long cpu = 0;
    try (BenchServer server = new BenchServer(); BenchClient client = BenchClient.of(library, variant, concurrency)) {
      CpuProfile.drive(client, server.uri(), concurrency, Duration.ofSeconds(warmupSeconds));
      for (int leg = 0; leg < legs; leg++) {
        long cpu0 = OS.getProcessCpuTime();
        long t0 = System.nanoTime();
        int[] r = CpuProfile.drive(client, server.uri(), concurrency, Duration.ofSeconds(legSeconds));
        nanos += System.nanoTime() - t0;
        cpu += OS.getProcessCpuTime() - cpu0;
        requests += r[0];
        errors += r[1];
      }
    }
    System.out.printf(Locale.ROOT, "%s %s concurrency %d: %.0f requests/s, %.1f µs CPU/request, %d errors%n",
        library.label, variant.label, concurrency, requests * 1e9 / nanos, cpu / 1000.0 / requests, errors);
    System.exit(0); // the clients' non-daemon threads (Reactor Netty's event loops) would keep the JVM
  }
}
