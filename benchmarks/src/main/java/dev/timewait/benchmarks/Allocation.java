package dev.timewait.benchmarks;

import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import javax.net.SocketFactory;

/**
 * Heap allocation, measured with {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}:
 * per request for each client and strategy (one request thread, sequential requests), and per
 * read through a socket's input stream, timewait's socket vs a plain one.
 *
 * <p>Not thread-safe.
 */
final class Allocation {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private Allocation() {}

  /** Bytes allocated per request, by the request thread and every client-side thread. */
  record PerRequest(BenchClient.Library library, BenchClient.Variant variant, int requests, int errors,
      double bytesPerRequest, double requestThreadBytesPerRequest, double cpuMicrosPerRequest) {}

  /** Bytes allocated per {@code read} call on a socket's input stream. */
  record PerRead(String socket, String call, int reads, double bytesPerRead) {}

  static PerRequest perRequest(BenchClient.Library library, BenchClient.Variant variant, int warmup, int requests)
      throws IOException {
    if (!THREADS.isThreadAllocatedMemorySupported()) {
      throw new IllegalStateException("this JVM cannot measure allocated bytes per thread");
    }
    THREADS.setThreadAllocatedMemoryEnabled(true);
    int errors = 0;
    try (BenchServer server = new BenchServer(); BenchClient client = BenchClient.of(library, variant, 1)) {
      URI uri = server.uri();
      for (int i = 0; i < warmup; i++) {
        errors += request(client, uri);
      }
      long self = Thread.currentThread().getId();
      Map<Long, Long> cpuBefore = clientSideCpu();
      Map<Long, Long> before = clientSideAllocation();
      long selfBefore = THREADS.getThreadAllocatedBytes(self);
      for (int i = 0; i < requests; i++) {
        errors += request(client, uri);
      }
      long selfAfter = THREADS.getThreadAllocatedBytes(self);
      Map<Long, Long> after = clientSideAllocation();
      Map<Long, Long> cpuAfter = clientSideCpu();
      long total = growth(before, after);
      long cpu = growth(cpuBefore, cpuAfter);
      return new PerRequest(library, variant, requests, errors, (double) total / requests,
          (double) (selfAfter - selfBefore) / requests, cpu / 1e3 / requests);
    }
  }

  /** Client-side CPU and allocation per request of A over B, round by round. */
  record PairedCost(BenchClient.Library library, BenchClient.Variant a, BenchClient.Variant b, int rounds,
      int requestsPerRound, int errors, Stats.Spread cpuRatio, Stats.Spread bytesRatio, double cpuMicrosA,
      double cpuMicrosB, double bytesA, double bytesB) {}

  /**
   * What A costs the client per request against B, measured without load on the machine's cores:
   * one request thread, sequential requests, each client against its own server, pool size 1.
   * After {@code warmup} requests each, {@code rounds} rounds alternate A and B (A B, B A, ...),
   * {@code requests} each, and count the CPU time and the bytes allocated by every client-side
   * thread. The median of the per-round ratios is the figure; the machine's other work weighs on
   * both sides of a round alike. Before each side's requests both clients close their idle
   * connections ({@link BenchClient#closeIdle}), so that neither is charged for the other's pool
   * (OkHttp's task runner is shared by every client in the JVM) and each side's requests begin with
   * a connect.
   */
  static PairedCost pairedCost(BenchClient.Library library, BenchClient.Variant a, BenchClient.Variant b,
      int warmup, int rounds, int requests) throws IOException {
    try (BenchClient clientA = BenchClient.of(library, a, 1); BenchClient clientB = BenchClient.of(library, b, 1)) {
      return pairedCost(library, a, b, clientA, clientB, warmup, rounds, requests);
    }
  }

  /**
   * {@link #pairedCost(BenchClient.Library, BenchClient.Variant, BenchClient.Variant, int, int, int)}
   * of two clients the caller built (and closes); {@code a} and {@code b} only name them.
   */
  static PairedCost pairedCost(BenchClient.Library library, BenchClient.Variant a, BenchClient.Variant b,
      BenchClient clientA, BenchClient clientB, int warmup, int rounds, int requests) throws IOException {
    THREADS.setThreadAllocatedMemoryEnabled(true);
    int errors = 0;
    double[] cpuRatio = new double[rounds];
    double[] bytesRatio = new double[rounds];
    double[] cpuA = new double[rounds];
    double[] cpuB = new double[rounds];
    double[] bytesA = new double[rounds];
    double[] bytesB = new double[rounds];
    try (BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer()) {
      for (int i = 0; i < warmup; i++) {
        errors += request(clientA, serverA.uri()) + request(clientB, serverB.uri());
      }
      for (int round = 0; round < rounds; round++) {
        double[] costA;
        double[] costB;
        if (round % 2 == 0) {
          costA = isolatedCost(clientA, clientB, serverA.uri(), requests);
          costB = isolatedCost(clientB, clientA, serverB.uri(), requests);
        } else {
          costB = isolatedCost(clientB, clientA, serverB.uri(), requests);
          costA = isolatedCost(clientA, clientB, serverA.uri(), requests);
        }
        errors += (int) (costA[2] + costB[2]);
        cpuA[round] = costA[0];
        cpuB[round] = costB[0];
        bytesA[round] = costA[1];
        bytesB[round] = costB[1];
        cpuRatio[round] = costA[0] / costB[0];
        bytesRatio[round] = costA[1] / costB[1];
      }
    }
    return new PairedCost(library, a, b, rounds, requests, errors, Stats.Spread.of(cpuRatio),
        Stats.Spread.of(bytesRatio), Stats.Spread.of(cpuA).median(), Stats.Spread.of(cpuB).median(),
        Stats.Spread.of(bytesA).median(), Stats.Spread.of(bytesB).median());
  }

  /** {@link #cost} of {@code client}, after both it and {@code other} closed their idle connections. */
  private static double[] isolatedCost(BenchClient client, BenchClient other, URI uri, int requests) {
    other.closeIdle();
    client.closeIdle();
    return cost(client, uri, requests);
  }

  /** {CPU µs per request, bytes per request, errors} of {@code requests} sequential requests, client side. */
  private static double[] cost(BenchClient client, URI uri, int requests) {
    Map<Long, Long> cpuBefore = clientSideCpu();
    Map<Long, Long> bytesBefore = clientSideAllocation();
    int errors = 0;
    for (int i = 0; i < requests; i++) {
      errors += request(client, uri);
    }
    Map<Long, Long> bytesAfter = clientSideAllocation();
    Map<Long, Long> cpuAfter = clientSideCpu();
    long cpu = growth(cpuBefore, cpuAfter);
    long bytes = growth(bytesBefore, bytesAfter);
    return new double[] {cpu / 1e3 / requests, (double) bytes / requests, errors};
  }

  /** How much the per-thread counters grew in all: a thread that started meanwhile counts from 0. */
  static long growth(Map<Long, Long> before, Map<Long, Long> after) {
    long sum = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return sum;
  }

  private static int request(BenchClient client, URI uri) {
    try {
      return client.get(uri) == 200 ? 0 : 1;
    } catch (Exception e) {
      return 1;
    }
  }

  /**
   * Allocated bytes of every live thread except the server's: the request thread, the clients'
   * I/O and pool threads. A thread that ends during the measurement takes its count with it.
   */
  static Map<Long, Long> clientSideAllocation() {
    Map<Long, Long> bytes = new HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (isClientSide(t)) {
        long b = THREADS.getThreadAllocatedBytes(t.getId());
        if (b >= 0) {
          bytes.put(t.getId(), b);
        }
      }
    }
    return bytes;
  }

  /** Whether {@code t} counts as the client's: every thread but the servers'. */
  static boolean isClientSide(Thread t) {
    return !t.getName().startsWith("bench-server");
  }

  /** CPU time (user + system) of every live thread except the server's. */
  static Map<Long, Long> clientSideCpu() {
    return cpu(true);
  }

  /**
   * CPU time (user + system) of every live thread on one side, by thread id: the client's
   * ({@link #isClientSide}) or the servers'.
   */
  static Map<Long, Long> cpu(boolean clientSide) {
    Map<Long, Long> nanos = new HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (isClientSide(t) == clientSide) {
        long n = THREADS.getThreadCpuTime(t.getId());
        if (n >= 0) {
          nanos.put(t.getId(), n);
        }
      }
    }
    return nanos;
  }

  /**
   * Reads {@code reads} times from a socket whose peer writes without end: through a plain
   * {@link Socket} or through a {@link TimeWaitSocketFactory} socket (reset and server close
   * modes; observing mode), {@code read(byte[])} with a 1 KiB buffer and single-byte {@code read()}.
   */
  static PerRead perRead(String socketKind, boolean singleByte, int warmupReads, int reads) throws IOException {
    THREADS.setThreadAllocatedMemoryEnabled(true);
    SocketFactory factory = switch (socketKind) {
      case "plain java.net.Socket" -> SocketFactory.getDefault();
      case "TimeWaitSocket (reset)" -> TimeWaitSocketFactory.create(CloseStrategy.reset());
      case "TimeWaitSocket (server close)" -> TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      case "TimeWaitSocket (observing)" -> TimeWaitSocketFactory.observing();
      default -> throw new IllegalArgumentException("socketKind unknown: " + socketKind);
    };
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread writer = new Thread(() -> {
        try (Socket peer = server.accept(); OutputStream out = peer.getOutputStream()) {
          byte[] chunk = new byte[64 * 1024];
          while (true) {
            out.write(chunk);
          }
        } catch (IOException e) {
          // the reader closed: done
        }
      }, "bench-server-writer");
      writer.setDaemon(true);
      writer.start();
      Socket socket = factory.createSocket();
      try {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 10_000);
        socket.setSoTimeout(30_000);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[1024];
        readMany(in, buffer, singleByte, warmupReads);
        long self = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(self);
        readMany(in, buffer, singleByte, reads);
        long after = THREADS.getThreadAllocatedBytes(self);
        return new PerRead(socketKind, singleByte ? "read()" : "read(byte[1024])", reads,
            (double) (after - before) / reads);
      } finally {
        socket.close();
      }
    }
  }

  private static void readMany(InputStream in, byte[] buffer, boolean singleByte, int reads) throws IOException {
    for (int i = 0; i < reads; i++) {
      int n = singleByte ? in.read() : in.read(buffer, 0, buffer.length);
      if (n < 0) {
        throw new IOException("the writer stopped early");
      }
    }
  }

  static final String[] SOCKET_KINDS = {
    "plain java.net.Socket", "TimeWaitSocket (reset)", "TimeWaitSocket (server close)", "TimeWaitSocket (observing)"
  };
}
