package dev.timewait.benchmarks;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import dev.timewait.testing.Leaks;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import reactor.core.Disposable;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * How many cancels leave their exchange going on, its connection open, raw client against the
 * same client configured by timewait. Each cancelled call's response stalls mid-body; a cancel
 * that reached the exchange closes the connection, which the loopback peer sees within 1 s; one
 * that did not leaves it open until the peer gives up (1.5 s).
 *
 * <ul>
 *   <li>HttpClient 5's async {@code Future.cancel(true)}, pooled: on new connections (many
 *       cancels in a row on one warm client) and on reused ones (a fresh client per cancel, whose
 *       second call leases the first call's idle connection); each cancel comes within 1 ms of
 *       the peer writing the response head; then, on new connections, each cancel as soon as
 *       the peer wrote the head (spinning), counting the requests HttpClient's retry sent again and
 *       the connections opened beyond one per call (a retry whose connect was cancelled sends nothing),
 *       pooled and a connection per request (raw with a reuse strategy that keeps none; timewait
 *       reset and server close). Why: docs/httpclient5.md "Cancel".
 *   <li>Reactor Netty's {@code Disposable.dispose()}, as the response head arrives (the caller
 *       spins on the peer's count and cancels at once), raw pooled and each timewait strategy.
 *       Why: docs/reactor-netty.md "Cancel".
 * </ul>
 *
 * <pre>
 * java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.CancelLoss [ROUNDS [CLIENT]]
 * </pre>
 *
 * <p>{@code ROUNDS}: cancels per row, 1-10,000 (200); {@code CLIENT}: {@code all} (the default),
 * {@code hc5-async} or {@code reactor-netty}.
 *
 * <p>A diagnostic, not part of the benchmark's report; the fault contract and the adapters' own
 * tests are the tests.
 */
final class CancelLoss {
  private static final long SEEN_CLOSED_WITHIN_MS = 1_000;
  private static final int PEER_HOLD_MS = 1_500;

  private CancelLoss() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? rounds(args[0]) : 200;
    String clients = args.length > 1 ? args[1] : "all";
    if (!clients.equals("all") && !clients.equals("hc5-async") && !clients.equals("reactor-netty")) {
      throw new IllegalArgumentException("client must be all, hc5-async or reactor-netty, but was " + clients);
    }
    try (Peer peer = new Peer()) {
      if (!clients.equals("reactor-netty")) {
        hc5Async(peer, rounds);
      }
      if (!clients.equals("hc5-async")) {
        reactorNetty(peer, rounds);
      }
    }
  }

  private static void hc5Async(Peer peer, int rounds) throws Exception {
    for (Hc5 setup : new Hc5[] {Hc5.RAW_POOLED, Hc5.TIMEWAIT_POOLED}) {
      int lostNew = newConnections(peer, setup, rounds, false);
      int reusedRounds = Math.max(1, rounds / 4);
      int lostReused = reusedConnections(peer, setup, reusedRounds);
      System.out.printf(Locale.ROOT, "hc5-async %-16s new connections: %d of %d cancels left the"
          + " connection open; reused connections: %d of %d%n", setup.label, lostNew, rounds, lostReused,
          reusedRounds);
    }
    for (Hc5 setup : Hc5.values()) {
      int before = peer.stalled.get();
      int acceptedBefore = peer.accepted.get();
      int lost = newConnections(peer, setup, rounds, true);
      // A cancelled GET that HttpClient's retry sent again reaches the peer once more; a retry
      // whose connect was cancelled as it was handed in opens a connection and sends nothing.
      Thread.sleep(PEER_HOLD_MS);
      int sentAgain = peer.stalled.get() - before - rounds;
      int extraConnections = peer.accepted.get() - acceptedBefore - rounds;
      System.out.printf(Locale.ROOT, "hc5-async %-24s cancels as the response head comes: %d of %d"
          + " left the connection open; %d requests sent again; %d connections opened beyond one per"
          + " call%n", setup.label, lost, rounds, sentAgain, extraConnections);
    }
  }

  /** The HttpClient 5 async clients compared. */
  private enum Hc5 {
    RAW_POOLED("raw pooled"),
    /** Raw, a connection per request: a reuse strategy that keeps none (what reset and server close replace). */
    RAW_NO_REUSE("raw, no reuse"),
    TIMEWAIT_POOLED("timewait pooled"),
    TIMEWAIT_RESET("timewait reset"),
    TIMEWAIT_SERVER_CLOSE("timewait server close");

    final String label;

    Hc5(String label) {
      this.label = label;
    }
  }

  /** A Reactor Netty row: a raw client on {@code provider}, or one configured for {@code strategy}. */
  private record Row(String name, ConnectionProvider provider, CloseStrategy strategy) {}

  private static void reactorNetty(Peer peer, int rounds) throws Exception {
    PooledKeepAlive pooled = PooledKeepAlive.builder().maxTotal(8).maxPerRoute(8).build();
    // Raw: Reactor Netty's own pool, and a connection per request as reset and server close use.
    Row[] rows = {
        new Row("raw pooled", ConnectionProvider.create("cancel-loss-raw", 8), null),
        new Row("raw newConnection", ConnectionProvider.newConnection(), null),
        timewait(CloseStrategy.serverClose()), timewait(CloseStrategy.reset()), timewait(pooled)};
    for (Row row : rows) {
      System.out.printf(Locale.ROOT, "reactor-netty %-24s cancels as the response head arrives: %d of %d"
          + " left the connection open%n", row.name(), reactorNetty(peer, row, rounds), rounds);
    }
  }

  private static Row timewait(CloseStrategy strategy) {
    return new Row("timewait " + strategy.getClass().getSimpleName(),
        TimeWaitReactorNetty.connectionProvider("cancel-loss", strategy), strategy);
  }

  /** Reactor Netty: each call disposed as soon as the peer has written its response head. */
  private static int reactorNetty(Peer peer, Row row, int rounds) throws Exception {
    HttpClient client = HttpClient.create(row.provider()).protocol(HttpProtocol.HTTP11);
    if (row.strategy() != null) {
      client = TimeWaitReactorNetty.configure(client, row.strategy());
    }
    int lost = 0;
    try {
      for (int r = 0; r < rounds; r++) {
        int stalled = peer.stalled.get();
        int closed = peer.closedByClient.get();
        Disposable call = client.get().uri(peer.uri("/stall"))
            .responseSingle((response, body) -> body.asByteArray())
            .subscribe(body -> { }, error -> { });
        if (!spin(() -> peer.stalled.get() != stalled)) {
          throw new IllegalStateException("the stalled request did not reach the peer within 5 s");
        }
        call.dispose();
        lost += await(() -> peer.closedByClient.get() > closed, SEEN_CLOSED_WITHIN_MS) ? 0 : 1;
      }
    } finally {
      if (row.strategy() != null) {
        TimeWaitReactorNetty.shutdown(client);
      } else if (row.provider() != ConnectionProvider.newConnection()) { // the shared one stays
        row.provider().disposeLater().block(Duration.ofSeconds(5));
      }
    }
    return lost;
  }

  private static int rounds(String value) {
    int n = Args.atLeast("rounds", value, 1);
    if (n > 10_000) {
      throw new IllegalArgumentException("rounds must be <= 10000, but was " + n);
    }
    return n;
  }

  private static CloseableHttpAsyncClient client(Hc5 setup) {
    HttpAsyncClientBuilder builder = HttpAsyncClients.custom();
    switch (setup) {
      case TIMEWAIT_POOLED -> builder = TimeWaitHttpClient5.configure(builder,
          PooledKeepAlive.builder().maxTotal(8).maxPerRoute(8).build());
      case TIMEWAIT_RESET -> builder = TimeWaitHttpClient5.configure(builder, CloseStrategy.reset());
      case TIMEWAIT_SERVER_CLOSE -> builder = TimeWaitHttpClient5.configure(builder, CloseStrategy.serverClose());
      case RAW_POOLED, RAW_NO_REUSE -> {
        builder.setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
            .setMaxConnTotal(8).setMaxConnPerRoute(8).build());
        if (setup == Hc5.RAW_NO_REUSE) {
          builder.setConnectionReuseStrategy((request, response, context) -> false);
        }
      }
    }
    CloseableHttpAsyncClient client = builder.build();
    client.start();
    return client;
  }

  /** Cancels in a row on one warm client; with {@code spin}, each as the response head comes. */
  private static int newConnections(Peer peer, Hc5 setup, int rounds, boolean spin) throws Exception {
    int lost = 0;
    try (CloseableHttpAsyncClient client = client(setup)) {
      for (int r = 0; r < rounds; r++) {
        lost += cancelStalled(client, peer, spin) ? 0 : 1;
      }
    }
    return lost;
  }

  private static int reusedConnections(Peer peer, Hc5 setup, int rounds) throws Exception {
    int lost = 0;
    for (int r = 0; r < rounds; r++) {
      try (CloseableHttpAsyncClient client = client(setup)) {
        client.execute(SimpleRequestBuilder.get(peer.uri("/ok")).build(), null).get(5, TimeUnit.SECONDS);
        lost += cancelStalled(client, peer, false) ? 0 : 1;
      }
    }
    return lost;
  }

  /**
   * Whether the cancel of a stalled call closed its connection within 1 s. The cancel comes
   * within 1 ms of the peer writing the response head, or, with {@code spin}, at once.
   */
  private static boolean cancelStalled(CloseableHttpAsyncClient client, Peer peer, boolean spin)
      throws Exception {
    int stalled = peer.stalled.get();
    int closed = peer.closedByClient.get();
    Future<SimpleHttpResponse> call = client.execute(SimpleRequestBuilder.get(peer.uri("/stall")).build(), null);
    if (!(spin ? spin(() -> peer.stalled.get() > stalled) : await(() -> peer.stalled.get() > stalled, 5_000))) {
      throw new IllegalStateException("the stalled request did not reach the peer within 5 s");
    }
    call.cancel(true);
    return await(() -> peer.closedByClient.get() > closed, SEEN_CLOSED_WITHIN_MS);
  }

  /** Spins (no sleep: the cancel should meet the response head) at most 5 s for {@code condition}. */
  private static boolean spin(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.onSpinWait();
    }
    return true;
  }

  /** {@code condition} within {@code boundMs}, checked every millisecond (the testing kit's wait). */
  private static boolean await(BooleanSupplier condition, long boundMs) {
    return Leaks.await(condition, Duration.ofMillis(boundMs), Duration.ofMillis(1));
  }

  /** A loopback HTTP/1.1 peer: {@code /ok} answers (keep-alive); anything else stalls mid-body. */
  private static final class Peer implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "cancel-loss-peer");
      t.setDaemon(true);
      return t;
    });
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger stalled = new AtomicInteger();
    final AtomicInteger closedByClient = new AtomicInteger();

    Peer() throws IOException {
      threads.execute(() -> {
        while (!server.isClosed()) {
          try {
            Socket socket = server.accept();
            accepted.incrementAndGet();
            threads.execute(() -> serve(socket));
          } catch (IOException e) {
            return;
          }
        }
      });
    }

    String uri(String path) {
      return "http://127.0.0.1:" + server.getLocalPort() + path;
    }

    private void serve(Socket socket) {
      try (socket) {
        socket.setSoTimeout(5_000);
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        String path;
        while ((path = readRequestPath(in)) != null) {
          if (path.equals("/ok")) {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            continue;
          }
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          stalled.incrementAndGet();
          socket.setSoTimeout(PEER_HOLD_MS);
          try {
            while (in.read() >= 0) {
              // discard until the client closes
            }
            closedByClient.incrementAndGet();
          } catch (SocketTimeoutException e) {
            // the cancel did not reach the exchange: give up (the close ends the client's call)
          } catch (IOException e) {
            closedByClient.incrementAndGet(); // reset by the client
          }
          return;
        }
      } catch (IOException e) {
        // the client went away
      }
    }

    /** The path of the next request (its head read whole), or null at end of stream. */
    private static String readRequestPath(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        head.append((char) c);
        if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
          return head.toString().split(" ", 3)[1];
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      server.close();
      threads.shutdownNow();
    }
  }
}
