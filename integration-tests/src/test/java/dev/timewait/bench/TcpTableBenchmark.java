package dev.timewait.bench;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.diagnostics.TimeWaitMonitor;
import dev.timewait.testing.ClientClosesFirst;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Times one {@link TcpTable} scan against {@code cat /proc/net/tcp6 > /dev/null} while the kernel
 * holds about 30,000 TIME_WAIT sockets, and states the {@link TimeWaitMonitor}'s steady-state cost.
 *
 * <p>It makes the TIME_WAIT itself, on loopback: client-closes-first connections to several local
 * {@link java.net.ServerSocket}s (each listening port is its own destination with its own
 * 28,232 ephemeral ports), bounded in count ({@code connections}) and time (120 s). Then it runs
 * the two commands paired, A B A B, after a warm-up, and prints markdown: median and spread
 * (min, quartiles, max) in milliseconds, and the ratio of the medians. The target: a scan takes at
 * most 1.5 times as long as {@code cat}.
 *
 * <p>Run (Linux only; makes ~30,000 sockets in TIME_WAIT for 60 s):
 *
 * <pre>
 * ./mvnw -B -q -pl integration-tests -am test-compile
 * java -cp core/target/classes:diagnostics/target/classes:testing/target/classes:integration-tests/target/test-classes:$HOME/.m2/repository/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar \
 *     dev.timewait.bench.TcpTableBenchmark [connections=30000] [pairs=31]
 * </pre>
 */
public final class TcpTableBenchmark {
  private static final int DEFAULT_CONNECTIONS = 30_000;
  private static final int DEFAULT_PAIRS = 31;
  private static final int PORTS = 6;
  private static final Duration GENERATION_BOUND = Duration.ofSeconds(120);
  private static final int WARMUP = 30;
  private static final int MONITOR_SAMPLES = 30;

  private TcpTableBenchmark() {}

  public static void main(String[] args) throws Exception {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_CONNECTIONS;
    int pairs = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_PAIRS;
    if (!TcpTable.system().isSupported()) {
      System.out.println("unsupported: " + TcpTable.system().count(TcpFilter.any()).unsupportedReason());
      return;
    }
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "- kernel: %s %s; JDK: %s (%s); CPUs: %d%n",
        System.getProperty("os.name"), System.getProperty("os.version"),
        System.getProperty("java.vm.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().availableProcessors()));

    try (ClientClosesFirst peer = ClientClosesFirst.start(PORTS)) {
      InetSocketAddress destination = peer.destination(0);
      TcpFilter filter = TcpFilter.remote(destination);

      // the monitor's cost on the table as it is before the load
      warmUp(filter);
      md.append(monitorCost("before the load", destination, linesOf()));

      long start = System.nanoTime();
      int made = peer.run(connections, GENERATION_BOUND);
      double seconds = (System.nanoTime() - start) / 1e9;
      for (int port : peer.ports()) {
        awaitSettled(port);
      }
      TcpCounts all = TcpTable.system().count(TcpFilter.any());
      md.append(String.format(Locale.ROOT,
          "- made %d client-closes-first connections over %d local ports in %.1f s (%.0f/s);"
              + " the tables then held %d sockets, %d in TIME_WAIT (sockstat tw: %d),"
              + " /proc/net/tcp6: %d lines, %d bytes%n",
          made, PORTS, seconds, made / seconds, all.total(), all.timeWait(),
          KernelCounters.systemTimeWait(), linesOf(), bytesOf(TcpTable.PROC_NET_TCP6)));

      Path snapshot = Files.createTempDirectory("tcptable-bench");
      Path tcpCopy = snapshot.resolve("tcp");
      Path tcp6Copy = snapshot.resolve("tcp6");
      Files.write(tcpCopy, readAll(TcpTable.PROC_NET_TCP));
      Files.write(tcp6Copy, readAll(TcpTable.PROC_NET_TCP6));
      TcpTable copy = TcpTable.of(tcpCopy, tcp6Copy);

      warmUp(filter);
      for (int i = 0; i < WARMUP; i++) {
        copy.count(filter);
      }
      long[] scan = new long[pairs];
      long[] cat = new long[pairs];
      long[] spawn = new long[pairs];
      long[] rawRead = new long[pairs];
      long[] rawRead4 = new long[pairs];
      long[] parseOnly = new long[pairs];
      for (int i = 0; i < pairs; i++) {
        scan[i] = time(() -> TcpTable.system().count(filter).total());
        cat[i] = time(() -> run("cat", TcpTable.PROC_NET_TCP6.toString()));
        spawn[i] = time(() -> run("true"));
        rawRead[i] = time(() -> drain(TcpTable.PROC_NET_TCP6));
        rawRead4[i] = time(() -> drain(TcpTable.PROC_NET_TCP));
        parseOnly[i] = time(() -> copy.count(filter).total());
      }
      Files.delete(tcpCopy);
      Files.delete(tcp6Copy);
      Files.delete(snapshot);
      TcpCounts after = TcpTable.system().count(TcpFilter.any());
      md.append(String.format(Locale.ROOT,
          "- after the timing the tables held %d sockets in TIME_WAIT%n%n", after.timeWait()));

      md.append("| command (paired A B A B, ").append(pairs).append(" rounds) | median ms | min | p25 | p75 | max |\n");
      md.append("|---|---:|---:|---:|---:|---:|\n");
      md.append(row("A: `TcpTable.system().count(TcpFilter.remote(dst))` (tcp + tcp6, parsed)", scan));
      md.append(row("B: `cat /proc/net/tcp6 > /dev/null` via ProcessBuilder", cat));
      md.append(row("spawn only: `true` via ProcessBuilder", spawn));
      md.append(row("raw JVM read of /proc/net/tcp6, no parsing", rawRead));
      md.append(row("raw JVM read of /proc/net/tcp (IPv4), no parsing", rawRead4));
      md.append(row("TcpTable scan of a copy of both tables in a regular file (parse cost)", parseOnly));
      double ratio = median(scan) / (double) median(cat);
      double[] pairRatios = new double[pairs];
      for (int i = 0; i < pairs; i++) {
        pairRatios[i] = scan[i] / (double) cat[i];
      }
      Arrays.sort(pairRatios);
      md.append(String.format(Locale.ROOT,
          "%nscan / cat: ratio of medians %.2f; per-pair ratios: median %.2f, min %.2f, max %.2f."
              + " Target <= 1.5: %s%n",
          ratio, pairRatios[pairs / 2], pairRatios[0], pairRatios[pairs - 1],
          ratio <= 1.5 ? "met" : "NOT met"));

      md.append(monitorCost("with the load", destination, linesOf()));
    }
    System.out.print(md);
  }

  private static void warmUp(TcpFilter filter) {
    for (int i = 0; i < WARMUP; i++) {
      TcpTable.system().count(filter);
    }
  }

  /** CPU and allocation of TimeWaitMonitor.sampleNow(), the monitor thread's work per period. */
  private static String monitorCost(String when, InetSocketAddress destination, long lines) {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long[] cpu = new long[MONITOR_SAMPLES];
    long[] bytes = new long[MONITOR_SAMPLES];
    try (TimeWaitMonitor monitor = TimeWaitMonitor.builder().destination(destination)
        .settings(KernelSettings.read()).build()) {
      for (int i = 0; i < WARMUP; i++) {
        monitor.sampleNow();
      }
      for (int i = 0; i < MONITOR_SAMPLES; i++) {
        long c0 = mx.getCurrentThreadCpuTime();
        long b0 = mx.getThreadAllocatedBytes(id);
        monitor.sampleNow();
        cpu[i] = mx.getCurrentThreadCpuTime() - c0;
        bytes[i] = mx.getThreadAllocatedBytes(id) - b0;
      }
    }
    double cpuMs = median(cpu) / 1e6;
    return String.format(Locale.ROOT,
        "%n**Monitor steady state, %s** (/proc/net/tcp6 %d lines): one sample (`sampleNow()`,"
            + " one scan) costs median %.2f ms CPU (min %.2f, max %.2f) and allocates median %d"
            + " bytes (min %d, max %d); at the default period of 1 s that is %.2f%% of one core.%n",
        when, lines, cpuMs, min(cpu) / 1e6, max(cpu) / 1e6, median(bytes), min(bytes), max(bytes),
        cpuMs / 10.0);
  }

  private static void awaitSettled(int port) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      TcpCounts c = TcpTable.system().count(TcpFilter.remotePort(port));
      if (c.total() == c.timeWait()) {
        return;
      }
      Thread.sleep(50);
    }
  }

  private static long time(LongSupplier work) {
    long t0 = System.nanoTime();
    long sink = work.getAsLong();
    long t = System.nanoTime() - t0;
    if (sink == Long.MIN_VALUE) {
      System.out.print(""); // keeps the result alive
    }
    return t;
  }

  private static long run(String... command) {
    try {
      Process p = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      return p.waitFor();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static final byte[] DRAIN = new byte[128 * 1024];

  private static long drain(Path file) {
    long total = 0;
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(DRAIN)) >= 0) {
        total += n;
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return total;
  }

  private static byte[] readAll(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readAllBytes();
    }
  }

  private static long linesOf() {
    long lines = 0;
    try (InputStream in = Files.newInputStream(TcpTable.PROC_NET_TCP6)) {
      int n;
      while ((n = in.read(DRAIN)) >= 0) {
        for (int i = 0; i < n; i++) {
          if (DRAIN[i] == '\n') {
            lines++;
          }
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return lines;
  }

  private static long bytesOf(Path file) {
    return drain(file);
  }

  private static String row(String name, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |%n", name,
        s[s.length / 2] / 1e6, s[0] / 1e6, s[s.length / 4] / 1e6, s[(3 * s.length) / 4] / 1e6,
        s[s.length - 1] / 1e6);
  }

  private static long median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long min(long[] v) {
    return Arrays.stream(v).min().orElse(0);
  }

  private static long max(long[] v) {
    return Arrays.stream(v).max().orElse(0);
  }
}
