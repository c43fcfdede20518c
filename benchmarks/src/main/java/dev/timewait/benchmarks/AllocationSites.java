package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the bytes of a sequential request go, site by site, for two variants of one client: what
 * the {@code Allocation} rows count in all, split by the object's class, the method that
 * allocated it, and the frame that called into it.
 *
 * <p>Run it with TLABs off, so that every allocation is a JFR {@code
 * jdk.ObjectAllocationOutsideTLAB} event with its stack (sampled events, or TLAB-refill events
 * with a fixed TLAB size, alias onto a few sites in a loop that allocates the same objects in the
 * same order every time):
 *
 * <pre>
 * java -XX:-UseTLAB -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.AllocationSites \
 *     [--library okhttp] [--a "timewait pooled"] [--b "raw pooled"] [--warmup 20000] [--requests 2000] [--top 30]
 * </pre>
 *
 * <p>Both clients, pool size 1, each against its own {@link BenchServer}, warm up alternately;
 * then each is recorded alone over {@code requests} requests. Only client-side threads count (not
 * the servers'). Not thread-safe; a diagnostic, not part of the benchmark's report.
 */
final class AllocationSites {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final String EVENT = "jdk.ObjectAllocationOutsideTLAB";

  private AllocationSites() {}

  /**
   * One allocation site: the object's class, the allocating method (the top frame), and the first
   * frame below it of another class outside the JDK's and Kotlin's runtime (for OkHttp's chain
   * copies: the interceptor that called {@code proceed}).
   */
  record Site(String objectClass, String allocatedIn, String calledFrom) {}

  /** Bytes per request by site, the events' total, and the thread counters' total over the same requests. */
  record Profile(String label, Map<Site, Double> bytesPerRequest, double eventBytesPerRequest,
      double threadBytesPerRequest, int errors) {}

  public static void main(String[] args) throws Exception {
    Library library = Library.OKHTTP;
    Variant a = Variant.LIB_POOLED;
    Variant b = Variant.RAW_POOLED;
    int warmup = 20_000;
    int requests = 2_000;
    int top = 30;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--library" -> library = library(value);
        case "--a" -> a = variant(value);
        case "--b" -> b = variant(value);
        case "--warmup" -> warmup = Args.atLeast("--warmup", value, 0);
        case "--requests" -> requests = Args.atLeast("--requests", value, 1);
        case "--top" -> top = Args.atLeast("--top", value, 1);
        default -> throw new IllegalArgumentException("argument unknown: " + args[i]
            + "; usage: [--library L] [--a VARIANT] [--b VARIANT] [--warmup N] [--requests N] [--top N]");
      }
      i++;
    }
    PrintStream out = System.out;
    if (ManagementFactory.getRuntimeMXBean().getInputArguments().stream().noneMatch("-XX:-UseTLAB"::equals)) {
      out.println("warning: run with -XX:-UseTLAB, or only allocations outside TLABs are seen");
    }
    List<Profile> profiles = run(library, a, b, warmup, requests);
    out.print(markdown(library, profiles.get(0), profiles.get(1), requests, top));
  }

  static List<Profile> run(Library library, Variant a, Variant b, int warmup, int requests) throws IOException {
    THREADS.setThreadAllocatedMemoryEnabled(true);
    try (BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer();
        BenchClient clientA = BenchClient.of(library, a, 1); BenchClient clientB = BenchClient.of(library, b, 1)) {
      // Warm up under a recording of the same events, thrown away: JFR's first recording
      // instruments classes and the JIT recompiles what it had inlined of them, which would fall
      // into the first side's measurement (without this, A showed +900 bytes/request that swapped
      // sides with the order).
      try (Recording priming = new Recording()) {
        priming.enable(EVENT).withStackTrace();
        priming.start();
        for (int i = 0; i < warmup; i++) {
          request(clientA, serverA.uri());
          request(clientB, serverB.uri());
        }
        priming.stop();
      }
      Profile pa = profile(a.label, clientA, serverA.uri(), requests);
      Profile pb = profile(b.label, clientB, serverB.uri(), requests);
      return List.of(pa, pb);
    }
  }

  private static Profile profile(String label, BenchClient client, URI uri, int requests) throws IOException {
    Path file = Files.createTempFile("allocation-sites", ".jfr");
    int errors = 0;
    long threadBytes;
    try (Recording recording = new Recording()) {
      recording.enable(EVENT).withStackTrace().withoutThreshold();
      recording.start();
      Map<Long, Long> before = Allocation.clientSideAllocation();
      for (int i = 0; i < requests; i++) {
        errors += request(client, uri);
      }
      Map<Long, Long> after = Allocation.clientSideAllocation();
      recording.stop();
      recording.dump(file);
      threadBytes = Allocation.growth(before, after);
    }
    Map<Site, Long> bytes = new HashMap<>();
    long total = 0;
    try (RecordingFile recorded = new RecordingFile(file)) {
      while (recorded.hasMoreEvents()) {
        RecordedEvent event = recorded.readEvent(); // one at a time: hundreds of thousands
        if (!event.getEventType().getName().equals(EVENT) || event.getThread() == null) {
          continue;
        }
        String thread = event.getThread().getJavaName();
        // The servers' threads, and JFR's own (in the thread counters too, but few bytes).
        if (thread == null || thread.startsWith("bench-server") || thread.startsWith("JFR")) {
          continue;
        }
        long size = event.getLong("allocationSize");
        total += size;
        bytes.merge(site(event), size, Long::sum);
      }
    } finally {
      Files.deleteIfExists(file);
    }
    Map<Site, Double> perRequest = new HashMap<>();
    bytes.forEach((site, b) -> perRequest.put(site, (double) b / requests));
    return new Profile(label, perRequest, (double) total / requests, (double) threadBytes / requests, errors);
  }

  private static Site site(RecordedEvent event) {
    String objectClass = event.getClass("objectClass").getName();
    RecordedStackTrace stack = event.getStackTrace();
    if (stack == null || stack.getFrames().isEmpty()) {
      return new Site(objectClass, "?", "?");
    }
    List<RecordedFrame> frames = stack.getFrames();
    String topType = frames.get(0).getMethod().getType().getName();
    String caller = "-";
    for (RecordedFrame f : frames) {
      String type = f.getMethod().getType().getName();
      if (!type.equals(topType) && !isRuntime(type)) {
        caller = frame(f);
        break;
      }
    }
    return new Site(objectClass, frame(frames.get(0)), caller);
  }

  /** The JDK's and Kotlin's runtime: never the caller that explains an allocation. */
  private static boolean isRuntime(String type) {
    return type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.")
        || type.startsWith("kotlin.");
  }

  private static String frame(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
  }

  private static int request(BenchClient client, URI uri) {
    try {
      return client.get(uri) == 200 ? 0 : 1;
    } catch (Exception e) {
      return 1;
    }
  }

  /** The sites of A and B side by side, largest difference first, then the rest by size. */
  static String markdown(Library library, Profile a, Profile b, int requests, int top) {
    Set<Site> sites = new HashSet<>(a.bytesPerRequest().keySet());
    sites.addAll(b.bytesPerRequest().keySet());
    List<Site> sorted = new ArrayList<>(sites);
    sorted.sort((x, y) -> {
      double dx = Math.abs(a.bytesPerRequest().getOrDefault(x, 0.0) - b.bytesPerRequest().getOrDefault(x, 0.0));
      double dy = Math.abs(a.bytesPerRequest().getOrDefault(y, 0.0) - b.bytesPerRequest().getOrDefault(y, 0.0));
      if (Math.round(dx) != Math.round(dy)) {
        return Double.compare(dy, dx);
      }
      return Double.compare(a.bytesPerRequest().getOrDefault(y, 0.0) + b.bytesPerRequest().getOrDefault(y, 0.0),
          a.bytesPerRequest().getOrDefault(x, 0.0) + b.bytesPerRequest().getOrDefault(x, 0.0));
    });
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s, %d sequential requests each, pool size 1: A = %s, B = %s%n%n",
        library.label, requests, a.label(), b.label()));
    sb.append(String.format(Locale.ROOT,
        "| | A bytes/request | B bytes/request | A - B |%n|---|---:|---:|---:|%n"
            + "| all client threads (ThreadMXBean) | %.0f | %.0f | %+.0f |%n"
            + "| all allocation events | %.0f | %.0f | %+.0f |%n"
            + "| errors | %d | %d | |%n%n",
        a.threadBytesPerRequest(), b.threadBytesPerRequest(), a.threadBytesPerRequest() - b.threadBytesPerRequest(),
        a.eventBytesPerRequest(), b.eventBytesPerRequest(), a.eventBytesPerRequest() - b.eventBytesPerRequest(),
        a.errors(), b.errors()));
    sb.append("| A bytes/request | B | A - B | object | allocated in | called from |\n");
    sb.append("|---:|---:|---:|---|---|---|\n");
    int shown = 0;
    for (Site s : sorted) {
      if (shown++ >= top) {
        break;
      }
      double va = a.bytesPerRequest().getOrDefault(s, 0.0);
      double vb = b.bytesPerRequest().getOrDefault(s, 0.0);
      sb.append(String.format(Locale.ROOT, "| %.0f | %.0f | %+.0f | %s | %s | %s |%n", va, vb, va - vb,
          s.objectClass(), s.allocatedIn(), s.calledFrom()));
    }
    return sb.toString();
  }

  static Library library(String label) {
    for (Library l : Library.values()) {
      if (l.label.equals(label)) {
        return l;
      }
    }
    throw new IllegalArgumentException("library unknown: " + label);
  }

  static Variant variant(String label) {
    for (Variant v : Variant.values()) {
      if (v.label.equals(label)) {
        return v;
      }
    }
    throw new IllegalArgumentException("variant unknown: " + label);
  }
}
