package dev.timewait.benchmarks;

import dev.timewait.PooledKeepAlive;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingStream;

/**
 * One pooled client alone in this JVM for a long run, printing requests per second slice by
 * slice, with a request cap of {@code cap} per connection (0: none): raw with the cap written by
 * hand (Reactor Netty: an eviction predicate, {@link BenchClient#reactorNettyCappedByHand};
 * HttpClient 5: a {@code ConnectionReuseStrategy}, {@link BenchClient#hc5CappedByHand}; OkHttp: a
 * network interceptor, {@link BenchClient#okHttpCappedByHand}), or timewait with {@code
 * maxRequestsPerConnection(cap)}. The client is Reactor Netty unless {@code --library hc5}, {@code
 * hc5-async} or {@code okhttp} comes first.
 *
 * <pre>
 * for c in 0 100000 10000; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Timeline raw $c 80 4
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Timeline --library hc5 timewait $c 60 4
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Timeline --library okhttp raw $c 60 4
 * done
 * </pre>
 *
 * <p>A second line counts the JIT's deoptimizations in each slice (JFR's {@code
 * jdk.Deoptimization} events, streamed in this JVM), and a table lists the most frequent reason and
 * method pairs after the first two slices (warm-up): what a retirement sets off in code the client
 * shares with every other connection (docs/benchmarks.md, session 20).
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
    Args.WithLibrary parsed = Args.withLibrary(args, 4, BenchClient.Library.REACTOR_NETTY);
    BenchClient.Library library = parsed.library();
    args = parsed.rest();
    if (args.length != 4 || !(args[0].equals("raw") || args[0].equals("timewait"))) {
      throw new IllegalArgumentException("usage: Timeline [--library reactor-netty|hc5|hc5-async|okhttp]"
          + " raw|timewait CAP SECONDS SLICE_SECONDS");
    }
    String mode = args[0];
    int cap = Args.atLeast("cap", args[1], 0);
    int seconds = Args.atLeast("seconds", args[2], 1);
    int slice = Args.atLeast("slice", args[3], 1);
    try (Deopts deopts = Deopts.start()) { // before the client: see Deopts
      BenchClient client = client(library, mode, cap);
      String run = (library == BenchClient.Library.REACTOR_NETTY ? "" : library.label + " ")
          + mode + " cap " + cap;
      StringBuilder line = new StringBuilder(run + ":");
      List<Instant> sliceStarts = new ArrayList<>();
      long total = 0;
      long start = System.nanoTime();
      try (client; BenchServer server = new BenchServer()) {
        for (int t = 0; t < seconds; t += slice) {
          sliceStarts.add(Instant.now());
          long t0 = System.nanoTime();
          int[] r = CpuProfile.drive(client, server.uri(), POOL, Duration.ofSeconds(slice));
          total += r[0];
          line.append(String.format(Locale.ROOT, " %.1fk", r[0] * 1e6 / (System.nanoTime() - t0)));
          if (r[1] > 0) {
            line.append(" (").append(r[1]).append(" errors)");
          }
        }
        sliceStarts.add(Instant.now()); // the end of the last slice
        System.out.println(line + String.format(Locale.ROOT, " | %d requests, %.1fk/s",
            total, total * 1e6 / (System.nanoTime() - start)));
        System.out.println(deopts.report(run, sliceStarts));
      }
    }
    System.exit(0); // Reactor Netty's event loops are non-daemon threads
  }

  private static BenchClient client(BenchClient.Library library, String mode, int cap) {
    boolean raw = mode.equals("raw");
    if (raw && cap == 0) {
      return BenchClient.of(library, BenchClient.Variant.RAW_POOLED, POOL);
    }
    if (raw) {
      return switch (library) {
        case REACTOR_NETTY -> BenchClient.reactorNettyCappedByHand("raw", POOL, cap);
        case OKHTTP -> BenchClient.okHttpCappedByHand(POOL, cap);
        case HC5, HC5_ASYNC -> BenchClient.hc5CappedByHand(library == BenchClient.Library.HC5_ASYNC, POOL, cap);
      };
    }
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(POOL).maxPerRoute(POOL)
        .maxRequestsPerConnection(cap > 0 ? cap : Integer.MAX_VALUE).build();
    return switch (library) {
      case REACTOR_NETTY -> BenchClient.reactorNettyTimewait(strategy);
      case OKHTTP -> BenchClient.okHttpTimewait(strategy);
      case HC5, HC5_ASYNC -> BenchClient.hc5Timewait(library == BenchClient.Library.HC5_ASYNC, strategy);
    };
  }

  /**
   * The JIT's deoptimizations in this JVM, from JFR's event stream. JFR hands events over about
   * once a second, so {@link #report} sorts them into slices by their start time, after a pause
   * for the last ones; the recording starts before the client, so that the recompilation a first
   * recording causes falls into warm-up.
   */
  private static final class Deopts implements AutoCloseable {
    private final RecordingStream stream = new RecordingStream();
    private final ConcurrentLinkedQueue<Deopt> events = new ConcurrentLinkedQueue<>();

    private record Deopt(Instant at, String reason, String method) {}

    static Deopts start() {
      Deopts deopts = new Deopts();
      deopts.stream.enable("jdk.Deoptimization").withoutStackTrace();
      deopts.stream.onEvent("jdk.Deoptimization", deopts::add);
      deopts.stream.startAsync();
      return deopts;
    }

    private void add(RecordedEvent event) {
      RecordedMethod method = event.getValue("method");
      String name = method == null ? "?" : method.getType().getName() + "." + method.getName();
      events.add(new Deopt(event.getStartTime(), event.getString("reason"), name));
    }

    /** Deoptimizations per slice; {@code sliceStarts} ends with the last slice's end. */
    String report(String run, List<Instant> sliceStarts) throws InterruptedException {
      Thread.sleep(2_000); // JFR flushes its buffers to the stream about once a second
      int[] perSlice = new int[sliceStarts.size() - 1];
      Map<String, Integer> afterWarmUp = new HashMap<>();
      for (Deopt e : events) {
        Instant at = e.at();
        int slice = -1;
        while (slice + 1 < sliceStarts.size() && !at.isBefore(sliceStarts.get(slice + 1))) {
          slice++;
        }
        if (slice < 0 || slice == perSlice.length) {
          continue; // the client's set-up, or after the last slice
        }
        perSlice[slice]++;
        if (slice >= 2) {
          afterWarmUp.merge(e.reason() + " " + e.method(), 1, Integer::sum);
        }
      }
      StringBuilder out = new StringBuilder(run + " deoptimizations per slice:");
      for (int n : perSlice) {
        out.append(' ').append(n);
      }
      afterWarmUp.entrySet().stream()
          .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
              .thenComparing(Map.Entry.comparingByKey()))
          .limit(15)
          .forEach(entry -> out.append(System.lineSeparator()).append("  ")
              .append(entry.getValue()).append(' ').append(entry.getKey()));
      return out.toString();
    }

    @Override
    public void close() {
      stream.close();
    }
  }
}
