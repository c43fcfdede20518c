package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client's system calls per sequential request, as the kernel sees them: each variant's client
 * runs alone in a fresh JVM under {@code strace -f} (every thread), against a {@link BenchServer}
 * in this JVM, which is not traced, so that every call counted is the client's.
 *
 * <pre>
 * java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.Syscalls \
 *     [--libraries hc5,hc5-async,okhttp,reactor-netty] [--pairs 1,2,3] [--variants "A|B"] \
 *     [--warmup 10000] [--requests 2000] [--runs 1] [--top 12] [--timeout-seconds 900] [--strace strace] \
 *     [--keep-traces DIR]
 * </pre>
 *
 * <p>Pairs: 1 timewait pooled / raw pooled, 2 timewait server-close / raw {@code Connection: close},
 * 3 timewait reset / naive shared client (keep-alive off); {@code --variants} names two variants
 * (labels, separated by {@code |}) instead. Pool size 1, one request thread.
 *
 * <p>The traced client sends {@code warmup} requests, then N and then 2N ({@code --requests N}),
 * and marks each boundary with a {@code stat} of a path that does not exist, which the trace shows
 * by name; each segment ends with the same 200 ms pause before its mark. Per request =
 * (segment(2N) - segment(N)) / N: start-up, warm-up and shutdown are outside the segments, and what
 * each segment has once (the pause's background wake-ups, the mark, a close that finishes after the
 * last response) cancels. The calls are counted at entry, by name, by the kind of file descriptor
 * ({@code -y}: socket, eventfd, pipe, file), by socket option, futex operation and error, and by
 * thread (the native names that the JVM gives its threads with {@code prctl(PR_SET_NAME)}).
 *
 * <p>strace stops the JVM at every system call, so it runs 10-50 times slower: keep N to a few
 * thousand. Each traced JVM is killed after {@code --timeout-seconds}. Not thread-safe; a
 * diagnostic, not part of the benchmark's report.
 */
final class Syscalls {
  /** The marker path's prefix; {@code stat} of it fails (no such file) but shows in the trace. */
  static final String MARK = "timewait-syscalls-mark-";

  /** Before each mark: lets closes that finish after the last response land in their segment. */
  private static final long PAUSE_MILLIS = 200;

  private static final Pattern THREAD_NAME = Pattern.compile("PR_SET_NAME, \"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern FD = Pattern.compile("^\\d+<([^>]*)>");
  /** The result after the last {@code )}; strace pads it to a column with spaces. */
  private static final Pattern RESULT = Pattern.compile("^.*\\)\\s+= (-?\\d+|0x[0-9a-f]+|\\?)(?: (E[A-Z0-9]+))?");

  private static final Set<String> READS = Set.of("read", "readv", "recvfrom", "recvmsg", "recvmmsg", "pread64");
  private static final Set<String> WRITES = Set.of("write", "writev", "sendto", "sendmsg", "sendmmsg", "pwrite64");
  private static final Set<String> POLLS = Set.of("poll", "ppoll", "select", "pselect6");
  private static final Set<String> EPOLL_WAITS = Set.of("epoll_wait", "epoll_pwait", "epoll_pwait2");
  private static final Set<String> OTHER_NET = Set.of("bind", "listen", "accept", "accept4", "getsockname",
      "getpeername", "socketpair", "epoll_create", "epoll_create1", "eventfd", "eventfd2", "pipe", "pipe2");
  private static final Set<String> FD_OPS = Set.of("fcntl", "ioctl", "dup2", "dup3", "close");

  private Syscalls() {}

  /** The columns of the report: what a call is for. */
  enum Kind {
    SOCKET("socket"), CONNECT("connect"), SOCKOPT("set/getsockopt"), SHUTDOWN("shutdown"),
    CLOSE("close (socket)"), READ("read, recv (socket)"), WRITE("write, send (socket)"), POLL("poll"),
    EPOLL_WAIT("epoll_wait"), EPOLL_CTL("epoll_ctl"), WAKEUP("eventfd/pipe read, write"),
    OTHER_NET("other socket, fd calls"), FUTEX("futex"), OTHER("other"),
    /** Every call of the JVM's own threads (JIT compilers, GC, VM thread, ...), whatever it is. */
    JVM("JVM's own threads");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    /** Networking and waiting: every kind but futex, the rest (memory, signals, files, time) and the JVM's. */
    boolean network() {
      return this != FUTEX && this != OTHER && this != JVM;
    }
  }

  /** One call as counted: its key (name and qualifiers) and its kind. */
  record Call(String key, Kind kind) {}

  /** Counts of one trace by segment (0: before the first mark; i: after mark i). */
  static final class Trace {
    static final int SEGMENTS = 4;
    final Map<String, long[]> byKey = new HashMap<>();
    final Map<Kind, long[]> byKind = new EnumMap<>(Kind.class);
    final Map<String, long[]> byThread = new HashMap<>();
    final long[] all = new long[SEGMENTS];
    int marks;

    void add(Call call, String thread, int segment) {
      int s = Math.min(segment, SEGMENTS - 1);
      boolean jvm = jvmThread(thread);
      byKey.computeIfAbsent(jvm ? "JVM: " + call.key() : call.key(), k -> new long[SEGMENTS])[s]++;
      byKind.computeIfAbsent(jvm ? Kind.JVM : call.kind(), k -> new long[SEGMENTS])[s]++;
      byThread.computeIfAbsent(thread, k -> new long[SEGMENTS])[s]++;
      all[s]++;
    }
  }

  /** One variant's calls per request (segment(2N) - segment(N)) / N, and the segments' own rates. */
  record Measured(Library library, Variant variant, int requests, int errors, Map<Kind, Double> byKind,
      Map<String, Double> byKey, Map<String, Double> byThread, double all, double allSegmentN,
      double allSegment2N) {
    double network() {
      return byKind.entrySet().stream().filter(e -> e.getKey().network()).mapToDouble(Map.Entry::getValue).sum();
    }

    double kind(Kind kind) {
      return byKind.getOrDefault(kind, 0.0);
    }
  }

  record Pair(String name, Variant a, Variant b) {}

  static final List<Pair> PAIRS = List.of(
      new Pair("1 adapter overhead", Variant.LIB_POOLED, Variant.RAW_POOLED),
      new Pair("2 server close", Variant.LIB_SERVER_CLOSE, Variant.RAW_CONNECTION_CLOSE),
      new Pair("3 reset vs naive", Variant.LIB_RESET, Variant.NAIVE_SHARED));

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(AllocationSites.library(args[1]), AllocationSites.variant(args[2]), URI.create(args[3]),
          Integer.parseInt(args[4]), Integer.parseInt(args[5]));
      return;
    }
    List<Library> libraries = List.of(Library.values());
    List<Pair> pairs = PAIRS;
    int warmup = 10_000;
    int requests = 2_000;
    int runs = 1;
    int top = 12;
    long timeoutSeconds = 900;
    String strace = "strace";
    Path keep = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--libraries", "--library" -> {
          List<Library> chosen = new ArrayList<>();
          for (String l : value.split(",")) {
            chosen.add(AllocationSites.library(l.trim()));
          }
          libraries = chosen;
        }
        case "--pairs" -> {
          List<Pair> chosen = new ArrayList<>();
          for (String p : value.split(",")) {
            int n = Args.atLeast("--pairs", p.trim(), 1);
            if (n > PAIRS.size()) {
              throw new IllegalArgumentException("--pairs must name pairs 1 to " + PAIRS.size() + ", but was " + n);
            }
            chosen.add(PAIRS.get(n - 1));
          }
          pairs = chosen;
        }
        case "--variants" -> {
          String[] v = value.split("\\|");
          if (v.length != 2) {
            throw new IllegalArgumentException("--variants takes two labels separated by |: " + value);
          }
          pairs = List.of(new Pair("A / B", AllocationSites.variant(v[0].trim()), AllocationSites.variant(v[1].trim())));
        }
        case "--warmup" -> warmup = Args.atLeast("--warmup", value, 0);
        case "--requests" -> requests = Args.atLeast("--requests", value, 1);
        case "--runs" -> runs = Args.atLeast("--runs", value, 1);
        case "--top" -> top = Args.atLeast("--top", value, 1);
        case "--timeout-seconds" -> timeoutSeconds = Args.atLeast("--timeout-seconds", value, 1);
        case "--strace" -> strace = value;
        case "--keep-traces" -> keep = Files.createDirectories(Path.of(value));
        default -> throw new IllegalArgumentException("argument unknown: " + args[i] + "; usage: [--libraries L,L]"
            + " [--pairs 1,2,3] [--variants \"A|B\"] [--warmup N] [--requests N] [--runs N] [--top N]"
            + " [--timeout-seconds S] [--strace PATH] [--keep-traces DIR]");
      }
      i++;
    }
    PrintStream log = System.err;
    // results.get(run) -> "library/variant" -> measured
    List<Map<String, Measured>> results = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      Map<String, Measured> measured = new LinkedHashMap<>();
      for (Library library : libraries) {
        for (Pair pair : pairs) {
          for (Variant variant : List.of(pair.a(), pair.b())) {
            long t0 = System.nanoTime();
            Path kept = keep == null ? null : keep.resolve(String.format(Locale.ROOT, "run%d-%s-%s.strace", run + 1,
                library.label, variant.name().toLowerCase(Locale.ROOT)));
            Measured m = trace(strace, library, variant, warmup, requests, timeoutSeconds, kept);
            measured.put(library.label + "/" + variant.label, m);
            log.println(String.format(Locale.ROOT, "run %d: %s, %s: %.2f network+waiting, %.2f futex, %.2f in all"
                    + " per request (segments: %.2f, %.2f), %d errors, %.0f s", run + 1, library.label,
                variant.label, m.network(), m.kind(Kind.FUTEX), m.all(), m.allSegmentN(), m.allSegment2N(),
                m.errors(), (System.nanoTime() - t0) / 1e9));
          }
        }
      }
      results.add(measured);
    }
    System.out.print(markdown(libraries, pairs, results, warmup, requests, top));
  }

  /**
   * The traced side: builds the client (pool size 1), sends {@code warmup} requests, then N and 2N,
   * each segment closed by a pause and a mark, and prints its errors as {@code @@ERRORS n}.
   */
  static void child(Library library, Variant variant, URI uri, int warmup, int requests) throws Exception {
    int errors = 0;
    try (BenchClient client = BenchClient.of(library, variant, 1)) {
      for (int i = 0; i < warmup; i++) {
        errors += request(client, uri);
      }
      mark(1);
      int measuredErrors = 0;
      for (int i = 0; i < requests; i++) {
        measuredErrors += request(client, uri);
      }
      mark(2);
      for (int i = 0; i < 2 * requests; i++) {
        measuredErrors += request(client, uri);
      }
      mark(3);
      System.out.println("@@ERRORS " + measuredErrors + " " + errors);
      System.out.flush();
    }
  }

  private static void mark(int n) throws InterruptedException {
    Thread.sleep(PAUSE_MILLIS);
    if (new File("/tmp/" + MARK + n).exists()) {
      throw new IllegalStateException("the marker path exists: /tmp/" + MARK + n);
    }
  }

  private static int request(BenchClient client, URI uri) {
    try {
      return client.get(uri) == 200 ? 0 : 1;
    } catch (Exception e) {
      return 1;
    }
  }

  /** Runs one variant's client under strace against a server in this JVM, and counts its calls. */
  static Measured trace(String strace, Library library, Variant variant, int warmup, int requests,
      long timeoutSeconds, Path keep) throws IOException, InterruptedException {
    Path file = keep != null ? keep : Files.createTempFile("syscalls", ".strace");
    try (BenchServer server = new BenchServer()) {
      List<String> command = new ArrayList<>(List.of(strace, "-f", "-qq", "-y", "-s", "48", "-o", file.toString()));
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (!option.startsWith("-XX:StartFlightRecording") && !option.startsWith("-agentlib:jdwp")) {
          command.add(option);
        }
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Syscalls.class.getName(), "--child",
          library.label, variant.label, server.uri().toString(), Integer.toString(warmup),
          Integer.toString(requests)));
      Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      byte[][] out = new byte[1][];
      Thread reader = new Thread(() -> {
        try (InputStream in = process.getInputStream()) {
          out[0] = in.readAllBytes();
        } catch (IOException e) {
          out[0] = new byte[0];
        }
      }, "syscalls-child-reader");
      reader.setDaemon(true);
      reader.start();
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        // The traced JVM first: killing strace alone would detach it and leave it running.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new IOException(library.label + ", " + variant.label + ": not done within " + timeoutSeconds + " s");
      }
      reader.join(TimeUnit.SECONDS.toMillis(10));
      String stdout = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
      Matcher errors = Pattern.compile("@@ERRORS (\\d+) (\\d+)").matcher(stdout);
      if (process.exitValue() != 0 || !errors.find()) {
        throw new IOException(library.label + ", " + variant.label + ": the traced client failed (exit "
            + process.exitValue() + "): " + stdout);
      }
      Trace trace;
      try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        trace = parse(lines);
      }
      if (trace.marks != 3) {
        throw new IOException(library.label + ", " + variant.label + ": " + trace.marks + " marks in the trace, not 3");
      }
      return measure(library, variant, requests, Integer.parseInt(errors.group(1)), trace);
    } finally {
      if (keep == null) {
        Files.deleteIfExists(file);
      }
    }
  }

  static Measured measure(Library library, Variant variant, int requests, int errors, Trace trace) {
    Map<Kind, Double> byKind = new EnumMap<>(Kind.class);
    trace.byKind.forEach((k, c) -> byKind.put(k, perRequest(c, requests)));
    Map<String, Double> byKey = new HashMap<>();
    trace.byKey.forEach((k, c) -> byKey.put(k, perRequest(c, requests)));
    Map<String, Double> byThread = new HashMap<>();
    trace.byThread.forEach((k, c) -> byThread.put(k, perRequest(c, requests)));
    return new Measured(library, variant, requests, errors, byKind, byKey, byThread, perRequest(trace.all, requests),
        (double) trace.all[1] / requests, (double) trace.all[2] / (2.0 * requests));
  }

  private static double perRequest(long[] segments, int requests) {
    return (double) (segments[2] - segments[1]) / requests;
  }

  /**
   * Counts an {@code strace -f -y} output (one line per call, prefixed by the thread id; a call
   * interrupted by another thread's is split into {@code <unfinished ...>} and {@code <... resumed>}
   * and counted once, at its entry's segment).
   */
  static Trace parse(BufferedReader lines) throws IOException {
    Trace trace = new Trace();
    Map<String, String> threadNames = new HashMap<>();
    Map<String, String> pendingCall = new HashMap<>();
    Map<String, Integer> pendingSegment = new HashMap<>();
    String line;
    while ((line = lines.readLine()) != null) {
      int space = line.indexOf(' ');
      if (space < 0) {
        continue;
      }
      String tid = line.substring(0, space);
      String rest = line.substring(space + 1).stripLeading();
      String text;
      int segment;
      if (rest.startsWith("<... ")) {
        String head = pendingCall.remove(tid);
        Integer entered = pendingSegment.remove(tid);
        int close = rest.indexOf("resumed>");
        if (head == null || close < 0) {
          continue; // its entry was before the trace began
        }
        text = head + rest.substring(close + "resumed>".length());
        segment = entered;
      } else if (rest.startsWith("---") || rest.startsWith("+++") || rest.isEmpty()) {
        continue; // signals and exits
      } else {
        segment = trace.marks;
        if (rest.contains(MARK)) {
          trace.marks++;
        }
        Matcher name = THREAD_NAME.matcher(rest);
        if (rest.startsWith("prctl(") && name.find()) {
          threadNames.put(tid, name.group(1));
        }
        if (rest.endsWith("<unfinished ...>")) {
          pendingCall.put(tid, rest.substring(0, rest.length() - "<unfinished ...>".length()));
          pendingSegment.put(tid, segment);
          continue;
        }
        text = rest;
      }
      Call call = classify(text);
      if (call != null) {
        trace.add(call, threadGroup(threadNames.get(tid)), segment);
      }
    }
    return trace;
  }

  /** A thread's group: its native name without a trailing number ("reactor-http-epoll-2", "GC Thread#1"). */
  static String threadGroup(String name) {
    if (name == null) {
      return "(unnamed: main, launcher)";
    }
    return name.replace("\"...", "").replace("...", "").replaceAll("[-#_ ]?\\d+$", "").strip();
  }

  /**
   * The JVM's own threads, by their native names (truncated to 15 characters): their calls (the JIT
   * compilers' memory checks, GC, safepoints) depend on time and compilation, not on the requests,
   * and go to one column of their own.
   */
  static boolean jvmThread(String group) {
    for (String prefix : List.of("C1 CompilerThre", "C2 CompilerThre", "GC Thread", "G1 ", "VM Thread",
        "VM Periodic", "Service Thread", "Monitor Deflati", "Sweeper thread", "Signal Dispatch", "Reference Handl",
        "Finalizer", "Common-Cleaner", "Notification Th")) {
      if (group.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** Classifies one whole call line ({@code name(args) = result}); null if it is not one. */
  static Call classify(String text) {
    int paren = text.indexOf('(');
    if (paren <= 0) {
      return null;
    }
    String name = text.substring(0, paren);
    if (!name.matches("[a-z0-9_]+")) {
      return null;
    }
    String args = text.substring(paren + 1);
    Matcher fd = FD.matcher(args);
    String fdKind = fd.find() ? fdKind(fd.group(1)) : null;
    String errno = null;
    String value = null;
    Matcher result = RESULT.matcher(text);
    if (result.find()) {
      value = result.group(1);
      errno = result.group(2);
    }
    StringBuilder key = new StringBuilder(name);
    Kind kind;
    if (READS.contains(name) || WRITES.contains(name)) {
      key.append(' ').append(fdKind == null ? "?" : fdKind);
      boolean socket = "socket".equals(fdKind);
      boolean wakeup = "eventfd".equals(fdKind) || "pipe".equals(fdKind);
      kind = socket ? (READS.contains(name) ? Kind.READ : Kind.WRITE) : wakeup ? Kind.WAKEUP : Kind.OTHER;
      if (errno == null && "0".equals(value) && READS.contains(name)) {
        key.append(" EOF");
      }
    } else if (name.equals("setsockopt") || name.equals("getsockopt")) {
      String[] a = args.split(", ");
      key.append(' ').append(a.length > 2 ? a[2] : "?");
      kind = Kind.SOCKOPT;
    } else if (name.equals("futex")) {
      String[] a = args.split(", ");
      String op = a.length > 1 ? a[1] : "?";
      key.append(op.contains("WAKE") ? " wake" : op.contains("WAIT") ? " wait" : " " + op);
      kind = Kind.FUTEX;
    } else if (FD_OPS.contains(name)) {
      key.append(' ').append(fdKind == null ? "?" : fdKind);
      boolean net = "socket".equals(fdKind) || "eventfd".equals(fdKind) || "pipe".equals(fdKind)
          || "epoll".equals(fdKind);
      kind = name.equals("close") && "socket".equals(fdKind) ? Kind.CLOSE : net ? Kind.OTHER_NET : Kind.OTHER;
    } else {
      kind = switch (name) {
        case "socket" -> Kind.SOCKET;
        case "connect" -> Kind.CONNECT;
        case "shutdown" -> Kind.SHUTDOWN;
        case "epoll_ctl" -> Kind.EPOLL_CTL;
        default -> POLLS.contains(name) ? Kind.POLL : EPOLL_WAITS.contains(name) ? Kind.EPOLL_WAIT
            : OTHER_NET.contains(name) ? Kind.OTHER_NET : Kind.OTHER;
      };
      if (name.equals("shutdown") && args.contains("SHUT_")) {
        Matcher how = Pattern.compile("SHUT_[A-Z]+").matcher(args);
        if (how.find()) {
          key.append(' ').append(how.group());
        }
      }
    }
    if (errno != null) {
      key.append(' ').append(errno);
    }
    return new Call(key.toString(), kind);
  }

  /** What {@code -y} shows for a descriptor, reduced: socket, eventfd, epoll, pipe, file or the inode's kind. */
  static String fdKind(String decoration) {
    if (decoration.startsWith("socket:") || decoration.startsWith("TCP") || decoration.startsWith("UNIX")) {
      return "socket";
    }
    if (decoration.startsWith("anon_inode:")) {
      String inode = decoration.substring("anon_inode:".length()).replace("[", "").replace("]", "");
      return inode.equals("eventpoll") ? "epoll" : inode;
    }
    if (decoration.startsWith("pipe:")) {
      return "pipe";
    }
    return decoration.startsWith("/") ? "file" : decoration.replaceAll(":.*", "");
  }

  static String markdown(List<Library> libraries, List<Pair> pairs, List<Map<String, Measured>> results, int warmup,
      int requests, int top) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "System calls per sequential request (strace -f), pool size 1:"
        + " (segment of %d requests - segment of %d) / %d, after %d warm-up requests; mean of %d run%s (each run a"
        + " fresh traced JVM per variant). The columns up to \"other\" count the client's threads (the request"
        + " thread and the library's); the JVM's own threads (JIT, GC, VM) have one column.%n%n", 2 * requests,
        requests, requests, warmup, results.size(), results.size() == 1 ? "" : "s"));
    sb.append("| client | variant |");
    for (Kind k : Kind.values()) {
      if (k == Kind.FUTEX) {
        sb.append(" network + waiting |");
      }
      sb.append(' ').append(k.label).append(" |");
    }
    sb.append(" all | network + waiting, all: per run | errors |\n|---|---|");
    sb.append("---:|".repeat(Kind.values().length + 2)).append("---|---:|\n");
    for (Library library : libraries) {
      for (Pair pair : pairs) {
        List<Double> rowA = null;
        for (Variant variant : List.of(pair.a(), pair.b())) {
          List<Measured> runs = new ArrayList<>();
          for (Map<String, Measured> run : results) {
            runs.add(run.get(library.label + "/" + variant.label));
          }
          List<Double> row = row(runs);
          sb.append("| ").append(library.label).append(" | ").append(variant.label).append(" |");
          for (double v : row) {
            sb.append(String.format(Locale.ROOT, " %.2f |", v));
          }
          StringBuilder perRun = new StringBuilder();
          int errors = 0;
          for (Measured m : runs) {
            perRun.append(perRun.length() == 0 ? "" : "; ")
                .append(String.format(Locale.ROOT, "%.2f, %.2f", m.network(), m.all()));
            errors += m.errors();
          }
          sb.append(' ').append(perRun).append(" | ").append(errors).append(" |\n");
          if (rowA == null) {
            rowA = row;
          } else {
            sb.append("| ").append(library.label).append(" | **A/B** |");
            for (int i = 0; i < row.size(); i++) {
              // The JVM's own threads: time and compilation, no per-request figure to compare.
              sb.append(' ').append(i == JVM_COLUMN ? "" : ratio(rowA.get(i), row.get(i))).append(" |");
            }
            sb.append(" | |\n");
          }
        }
      }
    }
    sb.append('\n');
    for (Library library : libraries) {
      for (Pair pair : pairs) {
        Measured a = mean(results, library, pair.a());
        Measured b = mean(results, library, pair.b());
        sb.append(String.format(Locale.ROOT, "%s, pair %s: A = %s, B = %s; calls per request, largest difference"
            + " first%n%n| A | B | A - B | call (fd kind, option, operation, error) |%n|---:|---:|---:|---|%n",
            library.label, pair.name(), a.variant().label, b.variant().label));
        sb.append(diffRows(a.byKey(), b.byKey(), top));
        sb.append(String.format(Locale.ROOT, "%nby thread, A: %s%nby thread, B: %s%n%n", byThread(a), byThread(b)));
      }
    }
    return sb.toString();
  }

  /** The JVM's own threads' column in a {@link #row}: after every kind and network + waiting. */
  private static final int JVM_COLUMN = Kind.JVM.ordinal() + 1;

  /** Kinds in column order (network + waiting before futex), then all calls: means over the runs. */
  private static List<Double> row(List<Measured> runs) {
    List<Double> row = new ArrayList<>();
    for (Kind k : Kind.values()) {
      if (k == Kind.FUTEX) {
        row.add(runs.stream().mapToDouble(Measured::network).average().orElse(0));
      }
      row.add(runs.stream().mapToDouble(m -> m.kind(k)).average().orElse(0));
    }
    row.add(runs.stream().mapToDouble(Measured::all).average().orElse(0));
    return row;
  }

  /** A ratio of two per-request counts; below 0.05 a count is one call in 20 requests, noise. */
  private static String ratio(double a, double b) {
    if (Math.abs(a) < 0.05 && Math.abs(b) < 0.05) {
      return "-";
    }
    if (Math.abs(b) < 0.05) {
      return "(B ~0)";
    }
    return String.format(Locale.ROOT, "%.2f", a / b);
  }

  private static Measured mean(List<Map<String, Measured>> results, Library library, Variant variant) {
    Map<String, Double> byKey = new HashMap<>();
    Map<String, Double> byThread = new HashMap<>();
    for (Map<String, Measured> run : results) {
      Measured m = run.get(library.label + "/" + variant.label);
      m.byKey().forEach((k, v) -> byKey.merge(k, v / results.size(), Double::sum));
      m.byThread().forEach((k, v) -> byThread.merge(k, v / results.size(), Double::sum));
    }
    return new Measured(library, variant, 0, 0, Map.of(), byKey, byThread, 0, 0, 0);
  }

  private static String diffRows(Map<String, Double> a, Map<String, Double> b, int top) {
    Set<String> keys = new HashSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<String> sorted = new ArrayList<>(keys);
    sorted.sort((x, y) -> {
      double dx = Math.abs(a.getOrDefault(x, 0.0) - b.getOrDefault(x, 0.0));
      double dy = Math.abs(a.getOrDefault(y, 0.0) - b.getOrDefault(y, 0.0));
      return dx != dy ? Double.compare(dy, dx)
          : Double.compare(a.getOrDefault(y, 0.0) + b.getOrDefault(y, 0.0), a.getOrDefault(x, 0.0) + b.getOrDefault(x, 0.0));
    });
    StringBuilder sb = new StringBuilder();
    int shown = 0;
    for (String k : sorted) {
      double va = a.getOrDefault(k, 0.0);
      double vb = b.getOrDefault(k, 0.0);
      if (shown++ >= top || (Math.abs(va) < 0.005 && Math.abs(vb) < 0.005)) {
        break;
      }
      sb.append(String.format(Locale.ROOT, "| %.2f | %.2f | %+.2f | %s |%n", va, vb, va - vb, k));
    }
    return sb.toString();
  }

  private static String byThread(Measured m) {
    StringBuilder sb = new StringBuilder();
    m.byThread().entrySet().stream().filter(e -> Math.abs(e.getValue()) >= 0.005)
        .sorted((x, y) -> Double.compare(Math.abs(y.getValue()), Math.abs(x.getValue())))
        .forEach(e -> sb.append(sb.length() == 0 ? "" : ", ")
            .append(String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue())));
    return sb.toString();
  }
}
