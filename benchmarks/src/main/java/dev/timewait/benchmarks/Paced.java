package dev.timewait.benchmarks;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import dev.timewait.PooledKeepAlive;
import dev.timewait.TimeWaitSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Arrays;
import java.util.Locale;
import javax.net.SocketFactory;

/**
 * Paced requests: what pooled keep-alive's reuse check costs the request that follows an idle gap.
 * Clients A and B (pool size 1, so every request reuses the one connection), each against its own
 * {@link BenchServer}, are warmed up with back-to-back requests; then every round sleeps {@code
 * gapMillis} (longer than the check's threshold, so A's connection is checked before its next
 * request and B's, without the check, is not), sends one request on each side (the "first request
 * after the gap"), then one more on each side at once (the "follow-up": a busy connection, checked
 * by neither). The order flips every round (A B, B A, ...); both connections idle during the same
 * sleep, so a round costs one gap, not two.
 *
 * <p>The per-round differences A - B are taken over pairs of consecutive rounds (one with A
 * first, one with B first, averaged), so that whatever the first request after a sleep pays for
 * being first (a thread that just woke, caches the machine's other work evicted) weighs on both
 * sides alike. Not thread-safe.
 */
final class Paced {
  private Paced() {}

  /** How many rounds, how long a gap, how much warm-up. */
  record Settings(int rounds, int warmupRounds, long gapMillis, int warmupRequests) {
    /** For a run with {@code load}'s settings: 40 rounds for a full run, 20 quick, 2 for a smoke pass. */
    static Settings forRun(PairRunner.Settings load) {
      if (load.rounds() <= 1) {
        return new Settings(2, 0, 600, 5);
      }
      return load.rounds() < 12 ? new Settings(20, 2, 600, 2_000) : new Settings(40, 2, 600, 5_000);
    }

    Settings withRounds(int r) {
      return new Settings(r, warmupRounds, gapMillis, warmupRequests);
    }

    Settings withGapMillis(long g) {
      return new Settings(rounds, warmupRounds, g, warmupRequests);
    }
  }

  /**
   * Latencies in milliseconds, element i of each array from round i: the first request after the
   * gap and the follow-up, for each side; the connections each server accepted during the measured
   * rounds (0 when every request reused the warm connection).
   */
  record Result(Library library, Variant a, Variant b, Settings settings, double[] firstA, double[] firstB,
      double[] followA, double[] followB, int connectionsA, int connectionsB, int errors, String firstError) {

    /** A - B of the first request after the gap, averaged over pairs of rounds (A first, B first). */
    Stats.Spread firstDifference() {
      return pairedDifference(firstA, firstB);
    }

    /** A - B of the follow-up request (busy connection, checked by neither). */
    Stats.Spread followDifference() {
      return pairedDifference(followA, followB);
    }

    private static Stats.Spread pairedDifference(double[] a, double[] b) {
      int pairs = a.length / 2;
      if (pairs == 0) {
        return Stats.Spread.of(new double[] {a.length == 0 ? Double.NaN : a[0] - b[0]});
      }
      double[] d = new double[pairs];
      for (int i = 0; i < pairs; i++) {
        d[i] = ((a[2 * i] - b[2 * i]) + (a[2 * i + 1] - b[2 * i + 1])) / 2;
      }
      return Stats.Spread.of(d);
    }

    /** "0.012 (-0.100, 0.300)": median (min, max), three decimals (ms). */
    static String format(Stats.Spread s) {
      return String.format(Locale.ROOT, "%.3f (%.3f, %.3f)", s.median(), s.min(), s.max());
    }

    /** "0.010 to 0.020": the median's 95% confidence interval, three decimals (ms). */
    static String ci(Stats.Spread s) {
      return String.format(Locale.ROOT, "%.3f to %.3f", s.ciLow(), s.ciHigh());
    }

    /** "p50 / p90 / max" of {@code values} in ms. */
    static String quantiles(double[] values) {
      double[] v = values.clone();
      Arrays.sort(v);
      if (v.length == 0) {
        return "-";
      }
      return String.format(Locale.ROOT, "%.3f / %.3f / %.3f", Stats.quantile(v, 0.5), Stats.quantile(v, 0.9),
          v[v.length - 1]);
    }
  }

  /** Runs {@code a} against {@code b} for {@code library} with {@code settings}. */
  static Result run(Library library, Variant a, Variant b, Settings settings)
      throws IOException, InterruptedException {
    int n = settings.rounds();
    double[] firstA = new double[n];
    double[] firstB = new double[n];
    double[] followA = new double[n];
    double[] followB = new double[n];
    int[] errors = new int[1];
    String[] firstError = new String[1];
    try (BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer();
        BenchClient clientA = BenchClient.of(library, a, 1); BenchClient clientB = BenchClient.of(library, b, 1)) {
      URI uriA = serverA.uri();
      URI uriB = serverB.uri();
      for (int i = 0; i < settings.warmupRequests(); i++) {
        timed(clientA, uriA, errors, firstError);
        timed(clientB, uriB, errors, firstError);
      }
      int acceptedA = serverA.accepted();
      int acceptedB = serverB.accepted();
      for (int round = -settings.warmupRounds(); round < n; round++) {
        if (round == 0) {
          acceptedA = serverA.accepted();
          acceptedB = serverB.accepted();
        }
        Thread.sleep(settings.gapMillis());
        double fa;
        double fb;
        double ua;
        double ub;
        if (Math.floorMod(round, 2) == 0) {
          fa = timed(clientA, uriA, errors, firstError);
          fb = timed(clientB, uriB, errors, firstError);
          ua = timed(clientA, uriA, errors, firstError);
          ub = timed(clientB, uriB, errors, firstError);
        } else {
          fb = timed(clientB, uriB, errors, firstError);
          fa = timed(clientA, uriA, errors, firstError);
          ub = timed(clientB, uriB, errors, firstError);
          ua = timed(clientA, uriA, errors, firstError);
        }
        if (round >= 0) {
          firstA[round] = fa;
          firstB[round] = fb;
          followA[round] = ua;
          followB[round] = ub;
        }
      }
      return new Result(library, a, b, settings, firstA, firstB, followA, followB,
          serverA.accepted() - acceptedA, serverB.accepted() - acceptedB, errors[0], firstError[0]);
    }
  }

  /** The socket calls {@link #socketCalls} times, in the order it makes them after each gap. */
  static final String[] SOCKET_CALLS = {"isClosed() #1", "isClosed() #2", "getSoTimeout()", "isClosed() #3"};

  /**
   * What each call costs on an idle pooled socket, ms; element [call][round]: with pooled
   * keep-alive's defaults ({@code check}) and without the check ({@code noCheck}).
   */
  record SocketCalls(int rounds, long gapMillis, double[][] check, double[][] noCheck) {}

  /**
   * Times the calls {@link #SOCKET_CALLS}, one after another, on two sockets from {@link
   * TimeWaitSocketFactory}: pooled keep-alive's defaults, and without the reuse check. Each round
   * first exchanges one byte each way (a request and its response: the connection's last I/O is a
   * read, as between exchanges), then sleeps {@code gapMillis}, then makes the calls on both
   * sockets (order flipped every round). A client asks {@code isClosed()} (OkHttp, on every reuse),
   * and the JDK's own socket methods ({@code getSoTimeout}, {@code setSoTimeout}, {@code
   * getInputStream}) ask it too: this shows what each such call costs after an idle gap.
   */
  static SocketCalls socketCalls(int rounds, long gapMillis) throws IOException, InterruptedException {
    SocketFactory checking = TimeWaitSocketFactory.create(PooledKeepAlive.builder().build());
    SocketFactory notChecking = TimeWaitSocketFactory.create(
        PooledKeepAlive.builder().staleCheckAfterIdle(PooledKeepAlive.MAX_DURATION).retryUnanswered(false).build());
    double[][] check = new double[SOCKET_CALLS.length][rounds];
    double[][] noCheck = new double[SOCKET_CALLS.length][rounds];
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread echo = new Thread(() -> {
        for (int peer = 0; peer < 2; peer++) {
          Socket s;
          try {
            s = server.accept();
          } catch (IOException e) {
            return;
          }
          Thread t = new Thread(() -> echoBytes(s), "bench-server-echo-" + peer);
          t.setDaemon(true);
          t.start();
        }
      }, "bench-server-accept");
      echo.setDaemon(true);
      echo.start();
      InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
      try (Socket a = checking.createSocket(); Socket b = notChecking.createSocket()) {
        a.connect(address, 10_000);
        b.connect(address, 10_000);
        a.setSoTimeout(30_000);
        b.setSoTimeout(30_000);
        for (int round = -1; round < rounds; round++) { // one warm-up round
          exchange(a);
          exchange(b);
          Thread.sleep(gapMillis);
          boolean aFirst = Math.floorMod(round, 2) == 0;
          double[] first = calls(aFirst ? a : b);
          double[] second = calls(aFirst ? b : a);
          if (round >= 0) {
            for (int c = 0; c < SOCKET_CALLS.length; c++) {
              check[c][round] = aFirst ? first[c] : second[c];
              noCheck[c][round] = aFirst ? second[c] : first[c];
            }
          }
        }
      }
    }
    return new SocketCalls(rounds, gapMillis, check, noCheck);
  }

  private static double[] calls(Socket socket) throws IOException {
    double[] ms = new double[SOCKET_CALLS.length];
    for (int c = 0; c < SOCKET_CALLS.length; c++) {
      long t0 = System.nanoTime();
      boolean closed = c == 2 ? socket.getSoTimeout() < 0 : socket.isClosed();
      ms[c] = (System.nanoTime() - t0) / 1e6;
      if (closed) {
        throw new IOException("the socket closed under the check");
      }
    }
    return ms;
  }

  private static void exchange(Socket socket) throws IOException {
    socket.getOutputStream().write('q');
    socket.getOutputStream().flush();
    if (socket.getInputStream().read() < 0) {
      throw new IOException("the echo peer closed");
    }
  }

  private static void echoBytes(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      for (int b = in.read(); b >= 0; b = in.read()) {
        out.write(b);
        out.flush();
      }
    } catch (IOException e) {
      // the client closed: done
    }
  }

  /** One GET's latency in ms; a failure counts in {@code errors} (its latency is still returned). */
  private static double timed(BenchClient client, URI uri, int[] errors, String[] firstError) {
    long t0 = System.nanoTime();
    try {
      int status = client.get(uri);
      if (status != 200) {
        errors[0]++;
        if (firstError[0] == null) {
          firstError[0] = "status " + status;
        }
      }
    } catch (Exception e) {
      errors[0]++;
      if (firstError[0] == null) {
        firstError[0] = e.toString();
      }
    }
    return (System.nanoTime() - t0) / 1e6;
  }
}
