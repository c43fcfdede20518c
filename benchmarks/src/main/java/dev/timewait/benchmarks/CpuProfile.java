package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the client's CPU goes for two variants of one client at a given concurrency: JFR
 * execution samples (every 1 ms per thread) while each variant runs alone, reported per 1,000
 * requests by the sampled method (self time), by every method on the stack (inclusive time), and
 * by whose code the sample is in ({@link #owner}: timewait's own, the JDK called from timewait's,
 * the client library's), with timewait's samples listed by the line they are in or called the JDK
 * from.
 *
 * <pre>
 * java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.CpuProfile \
 *     [--library reactor-netty] [--a "timewait pooled"] [--b "raw pooled"] [--concurrency 4] \
 *     [--seconds 10] [--warmup-seconds 10] [--top 30]
 * </pre>
 *
 * <p>Pool size = concurrency. Each side runs against its own {@link BenchServer}; a throwaway JFR
 * recording comes first (the process's first recording sets off a wave of deoptimization), then
 * both warm up alternately, then A, B, B and A are recorded one after the other, each alone. With
 * {@code --warmup-seconds 0} that wave still falls on the first measured round. JFR samples only
 * threads running Java code, so a thread blocked in a system call is not seen: the process CPU
 * time per request is printed beside. A diagnostic, not part of the benchmark's report: its
 * requests per second are not the benchmark's ratio (before session 41 A's first round paid that
 * wave alone, 14-36% slower; since, 0.90-0.93 where the pairs give 0.87-0.90); the benchmark's
 * pairs, which alternate the legs' order across forks, compare. It shows where each one's time goes.
 */
final class CpuProfile {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private CpuProfile() {}

  record Side(String label, int requests, int errors, double cpuMicrosPerRequest, double perSecond,
      Map<String, Integer> self, Map<String, Integer> byThread, Map<Owner, Integer> byOwner,
      Map<String, Integer> timewaitLines, int samples) {}

  /** Whose code a sample is in, in the order the report lists them. */
  enum Owner {
    TIMEWAIT("timewait's own code"),
    JDK_FROM_TIMEWAIT("the JDK, called from timewait's code"),
    LIBRARY("the client library (and the JDK it calls)"),
    JDK_ONLY("the JDK only"),
    DRIVER("the harness's driver");

    final String label;

    Owner(String label) {
      this.label = label;
    }
  }

  public static void main(String[] args) throws Exception {
    Library library = Library.REACTOR_NETTY;
    Variant a = Variant.LIB_POOLED;
    Variant b = Variant.RAW_POOLED;
    int concurrency = 4;
    int seconds = 10;
    int warmupSeconds = 10;
    int top = 30;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--library" -> library = AllocationSites.library(value);
        case "--a" -> a = AllocationSites.variant(value);
        case "--b" -> b = AllocationSites.variant(value);
        case "--concurrency" -> concurrency = Args.atLeast("--concurrency", value, 1);
        case "--seconds" -> seconds = Args.atLeast("--seconds", value, 1);
        case "--warmup-seconds" -> warmupSeconds = Args.atLeast("--warmup-seconds", value, 0);
        case "--top" -> top = Args.atLeast("--top", value, 1);
        default -> throw new IllegalArgumentException("argument unknown: " + args[i]);
      }
      i++;
    }
    PrintStream out = System.out;
    try (BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer();
        BenchClient clientA = BenchClient.of(library, a, concurrency);
        BenchClient clientB = BenchClient.of(library, b, concurrency)) {
      // The process's first JFR recording is followed by a wave of deoptimization (JDK 17: 3,830
      // methods made not entrant within 200 ms, -XX:+PrintCompilation), and C2 then takes a core
      // for seconds: started first in the measured rounds, it fell on A's first round alone (A/B
      // 0.76-0.83 for Reactor Netty's server close, C2 31% of the machine's samples in A's round,
      // under 1.2% in B's). One recording before the warm-up moves that cost there, as Timeline
      // and AllocationSites do.
      try (Recording first = new Recording()) {
        first.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
        first.start();
        first.stop();
      }
      for (int w = 0; w < warmupSeconds; w++) {
        drive(clientA, serverA.uri(), concurrency, Duration.ofMillis(500));
        drive(clientB, serverB.uri(), concurrency, Duration.ofMillis(500));
      }
      // A, B, then B, A: whatever the first measured round still pays falls on both sides.
      Side a1 = record(a.label, clientA, serverA.uri(), concurrency, seconds);
      Side b1 = record(b.label, clientB, serverB.uri(), concurrency, seconds);
      Side b2 = record(b.label, clientB, serverB.uri(), concurrency, seconds);
      Side a2 = record(a.label, clientA, serverA.uri(), concurrency, seconds);
      out.print(report(library, concurrency, merge(a1, a2), merge(b1, b2), top));
    }
  }

  private static Side merge(Side x, Side y) {
    Map<String, Integer> self = new HashMap<>(x.self());
    y.self().forEach((k, v) -> self.merge(k, v, Integer::sum));
    Map<String, Integer> byThread = new HashMap<>(x.byThread());
    y.byThread().forEach((k, v) -> byThread.merge(k, v, Integer::sum));
    Map<Owner, Integer> byOwner = new EnumMap<>(x.byOwner());
    y.byOwner().forEach((k, v) -> byOwner.merge(k, v, Integer::sum));
    Map<String, Integer> timewaitLines = new HashMap<>(x.timewaitLines());
    y.timewaitLines().forEach((k, v) -> timewaitLines.merge(k, v, Integer::sum));
    int requests = x.requests() + y.requests();
    return new Side(x.label(), requests, x.errors() + y.errors(),
        (x.cpuMicrosPerRequest() * x.requests() + y.cpuMicrosPerRequest() * y.requests()) / requests,
        (x.perSecond() + y.perSecond()) / 2, self, byThread, byOwner, timewaitLines,
        x.samples() + y.samples());
  }

  private static Side record(String label, BenchClient client, URI uri, int concurrency, int seconds)
      throws Exception {
    Path file = Files.createTempFile("cpu-profile", ".jfr");
    int[] result;
    long cpu;
    long elapsed;
    try (Recording recording = new Recording()) {
      recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
      recording.start();
      long cpu0 = OS.getProcessCpuTime();
      long t0 = System.nanoTime();
      result = drive(client, uri, concurrency, Duration.ofSeconds(seconds));
      elapsed = System.nanoTime() - t0;
      cpu = OS.getProcessCpuTime() - cpu0;
      recording.stop();
      recording.dump(file);
    }
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> byThread = new HashMap<>();
    Map<Owner, Integer> byOwner = new EnumMap<>(Owner.class);
    Map<String, Integer> timewaitLines = new HashMap<>();
    int samples = 0;
    try (RecordingFile recorded = new RecordingFile(file)) {
      while (recorded.hasMoreEvents()) {
        RecordedEvent event = recorded.readEvent();
        if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
          continue;
        }
        RecordedStackTrace stack = event.getStackTrace();
        String thread = event.getThread("sampledThread") == null ? "?"
            : event.getThread("sampledThread").getJavaName();
        String group = thread == null ? "?" : thread.replaceAll("[-#]?\\d+$", "");
        byThread.merge(group, 1, Integer::sum);
        if (stack == null || stack.getFrames().isEmpty() || group.startsWith("bench-server")) {
          continue;
        }
        samples++;
        self.merge(frame(stack.getFrames().get(0)), 1, Integer::sum);
        List<String> types = stack.getFrames().stream().map(f -> f.getMethod().getType().getName()).toList();
        Owner owner = owner(types);
        byOwner.merge(owner, 1, Integer::sum);
        if (owner == Owner.TIMEWAIT || owner == Owner.JDK_FROM_TIMEWAIT) {
          // Which line of timewait's the sample is in, or called the JDK code it is in from.
          timewaitLines.merge(frame(stack.getFrames().get(firstOutsideJdk(types)))
              + (owner == Owner.JDK_FROM_TIMEWAIT ? " (in the JDK below it)" : ""), 1, Integer::sum);
        }
        // Inclusive: every distinct method on the stack, once.
        Set<String> seen = new HashSet<>();
        for (RecordedFrame f : stack.getFrames()) {
          String m = "+" + method(f);
          if (seen.add(m)) {
            self.merge(m, 1, Integer::sum);
          }
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
    return new Side(label, result[0], result[1], cpu / 1000.0 / result[0], result[0] * 1e9 / elapsed, self,
        byThread, byOwner, timewaitLines, samples);
  }

  /**
   * Whose work a sample is: the first frame from the top that is not the JDK's or Kotlin's standard
   * library decides, so that the client's code that timewait's interceptors and handlers call on to
   * ({@code chain.proceed}) stays the client's. JDK code called from timewait's code is a class of
   * its own: some of it is timewait's work (a lock, {@code SO_LINGER}), some the work timewait's
   * socket passes on to the JDK socket it extends ({@code super.connect}, a read), which the raw
   * client does as well; the per-line table tells them apart.
   */
  static Owner owner(List<String> types) {
    int i = firstOutsideJdk(types);
    if (i < 0) {
      return Owner.JDK_ONLY;
    }
    String type = types.get(i);
    if (type.startsWith("dev.timewait.benchmarks.")) {
      return Owner.DRIVER;
    }
    if (type.startsWith("dev.timewait.")) {
      return i == 0 ? Owner.TIMEWAIT : Owner.JDK_FROM_TIMEWAIT;
    }
    return Owner.LIBRARY;
  }

  /** The index of the first frame from the top outside the JDK and Kotlin's library, or -1. */
  private static int firstOutsideJdk(List<String> types) {
    for (int i = 0; i < types.size(); i++) {
      String type = types.get(i);
      if (!(type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.")
          || type.startsWith("com.sun.") || type.startsWith("kotlin."))) {
        return i;
      }
    }
    return -1;
  }

  /** {@code concurrency} threads sending requests until {@code duration} is over: {requests, errors}. */
  static int[] drive(BenchClient client, URI uri, int concurrency, Duration duration) throws InterruptedException {
    return drive(client, uri, concurrency, duration, null);
  }

  /**
   * As {@link #drive(BenchClient, URI, int, Duration)}, adding each driver thread's own CPU time
   * to {@code driverCpuNanos} unless it is null: the threads end with the leg, so a reading of
   * the live threads after it no longer sees them (a blocking client's own work runs on them).
   */
  static int[] drive(BenchClient client, URI uri, int concurrency, Duration duration, LongAdder driverCpuNanos)
      throws InterruptedException {
    AtomicInteger requests = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    long end = System.nanoTime() + duration.toNanos();
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int t = 0; t < concurrency; t++) {
      Thread thread = new Thread(() -> {
        long cpuBefore = driverCpuNanos == null ? 0 : ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        try {
          while (System.nanoTime() < end) {
            try {
              if (client.get(uri) != 200) {
                errors.incrementAndGet();
              }
            } catch (Exception e) {
              errors.incrementAndGet();
            }
            requests.incrementAndGet();
          }
        } finally {
          if (driverCpuNanos != null) {
            driverCpuNanos.add(ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuBefore);
          }
          done.countDown();
        }
      }, "profile-driver-" + t);
      thread.start();
    }
    if (!done.await(duration.toMillis() + 60_000, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("the drivers did not finish within 60 s of their end");
    }
    return new int[] {requests.get(), errors.get()};
  }

  private static String frame(RecordedFrame f) {
    return method(f) + ":" + f.getLineNumber();
  }

  private static String method(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type + "." + f.getMethod().getName();
  }

  static String report(Library library, int concurrency, Side a, Side b, int top) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s at concurrency %d: A = %s, B = %s%n%n", library.label, concurrency,
        a.label(), b.label()));
    sb.append(String.format(Locale.ROOT,
        "| | A | B | A/B |%n|---|---:|---:|---:|%n| requests/s | %.0f | %.0f | %.2f |%n"
            + "| process CPU µs/request | %.1f | %.1f | %.2f |%n| errors | %d | %d | |%n"
            + "| client samples per 1,000 requests | %.1f | %.1f | %.2f |%n%n",
        a.perSecond(), b.perSecond(), a.perSecond() / b.perSecond(), a.cpuMicrosPerRequest(),
        b.cpuMicrosPerRequest(), a.cpuMicrosPerRequest() / b.cpuMicrosPerRequest(), a.errors(), b.errors(),
        1000.0 * a.samples() / a.requests(), 1000.0 * b.samples() / b.requests(),
        (double) a.samples() / a.requests() / ((double) b.samples() / b.requests())));
    sb.append("Whose code the client's samples are in (the first frame from the top outside the JDK and Kotlin's"
        + " library), samples per 1,000 requests (share of the side's samples)\n\n| | A | B | A - B |\n|---|---:|---:|---:|\n");
    for (Owner owner : Owner.values()) {
      int na = a.byOwner().getOrDefault(owner, 0);
      int nb = b.byOwner().getOrDefault(owner, 0);
      double va = 1000.0 * na / a.requests();
      double vb = 1000.0 * nb / b.requests();
      sb.append(String.format(Locale.ROOT, "| %s | %.2f (%.1f%%) | %.2f (%.1f%%) | %+.2f |%n", owner.label, va,
          100.0 * na / Math.max(1, a.samples()), vb, 100.0 * nb / Math.max(1, b.samples()), va - vb));
    }
    sb.append("\ntimewait's samples by the line of timewait's they are in, or called the JDK from, per 1,000 requests"
        + " (B's are the JIT's: compiled code shared by both clients, sampled near a branch of A's)\n\n"
        + "| A | B | line |\n|---:|---:|---|\n");
    Set<String> lines = new HashSet<>(a.timewaitLines().keySet());
    lines.addAll(b.timewaitLines().keySet());
    lines.stream()
        .sorted(Comparator.comparingDouble((String k) ->
            perThousand(a.timewaitLines(), k, a) - perThousand(b.timewaitLines(), k, b)).reversed())
        .limit(top)
        .forEach(k -> sb.append(String.format(Locale.ROOT, "| %.2f | %.2f | %s |%n",
            perThousand(a.timewaitLines(), k, a), perThousand(b.timewaitLines(), k, b), k)));
    sb.append('\n');
    sb.append("samples by thread (all threads, per 1,000 requests): A ");
    sb.append(perThousand(a.byThread(), a.requests())).append("; B ").append(perThousand(b.byThread(), b.requests()));
    sb.append("\n\n");
    for (boolean inclusive : new boolean[] {false, true}) {
      sb.append(inclusive ? "Inclusive (method anywhere on the stack)" : "Self (top frame)");
      sb.append(", samples per 1,000 requests, largest difference first\n\n| A | B | A - B | method |\n|---:|---:|---:|---|\n");
      Set<String> keys = new HashSet<>();
      for (String k : a.self().keySet()) {
        if (k.startsWith("+") == inclusive) {
          keys.add(k);
        }
      }
      for (String k : b.self().keySet()) {
        if (k.startsWith("+") == inclusive) {
          keys.add(k);
        }
      }
      List<String> sorted = new ArrayList<>(keys);
      sorted.sort((x, y) -> Double.compare(Math.abs(diff(a, b, y)), Math.abs(diff(a, b, x))));
      for (int i = 0; i < Math.min(top, sorted.size()); i++) {
        String k = sorted.get(i);
        double va = 1000.0 * a.self().getOrDefault(k, 0) / a.requests();
        double vb = 1000.0 * b.self().getOrDefault(k, 0) / b.requests();
        sb.append(String.format(Locale.ROOT, "| %.2f | %.2f | %+.2f | %s |%n", va, vb, va - vb,
            inclusive ? k.substring(1) : k));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static double perThousand(Map<String, Integer> m, String k, Side side) {
    return 1000.0 * m.getOrDefault(k, 0) / side.requests();
  }

  private static double diff(Side a, Side b, String k) {
    return 1000.0 * a.self().getOrDefault(k, 0) / a.requests() - 1000.0 * b.self().getOrDefault(k, 0) / b.requests();
  }

  private static String perThousand(Map<String, Integer> m, int requests) {
    StringBuilder sb = new StringBuilder();
    m.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(6).forEach(e ->
        sb.append(String.format(Locale.ROOT, "%s %.1f, ", e.getKey(), 1000.0 * e.getValue() / requests)));
    return sb.toString();
  }
}
