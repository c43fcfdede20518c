package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control for server close: plain OkHttp sending {@code Connection: close} closes on the last
 * body byte without waiting for the server's FIN, so it keeps the TIME_WAIT whenever it closes
 * before the server does.
 */
class ConnectionCloseControlTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final int RACE_REQUESTS = 3000;
  private static final int RACE_THREADS = 8;
  private static final Duration RACE_BOUND = Duration.ofSeconds(90);

  @BeforeEach
  void readable() {
    KernelTcp.assumeReadable();
  }

  private static void fetch(OkHttpClient client, Request request) throws IOException {
    try (Response response = client.newCall(request).execute()) {
      assertThat(response.body().string()).isNotEmpty();
    }
  }

  @Test
  void plainOkHttpKeepsTheTimeWaitWhenTheServerClosesLateAndServerCloseGivesItToTheServer()
      throws Exception {
    int requests = 10;
    KernelCounters before = KernelCounters.read();
    try (RawHttpPeer peer =
        RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_LATE, Duration.ofMillis(200), false)) {
      String url = "http://127.0.0.1:" + peer.port() + "/";

      ClientPorts plainPorts = new ClientPorts();
      OkHttpClient plain = new OkHttpClient.Builder().eventListener(plainPorts).build();
      for (int i = 0; i < requests; i++) {
        fetch(plain, new Request.Builder().url(url).header("Connection", "close").build());
      }
      TimeWaitOkHttp.shutdown(plain);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      // Counted before the configured client connects: on loopback Linux lets connect() take over
      // a 4-tuple in TIME_WAIT (tcp_tw_reuse=2, the default), which would end a plain one early.
      assertThat(plainPorts.size()).isEqualTo(requests);
      // One each, but for any an RST from the host ended early (KernelTcp's notes).
      assertThat(plainPorts.timeWait())
          .isBetween(requests - KernelTcp.strayResetsSince(before), requests);

      ClientPorts configuredPorts = new ClientPorts();
      CloseAccounting accounting = new CloseAccounting();
      OkHttpClient configured = TimeWaitOkHttp.configure(
          new OkHttpClient.Builder().eventListener(configuredPorts), CloseStrategy.serverClose(), accounting)
          .build();
      for (int i = 0; i < requests; i++) {
        fetch(configured, new Request.Builder().url(url).build());
      }
      TimeWaitOkHttp.shutdown(configured);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      CloseStats stats = accounting.snapshot();
      assertThat(stats.connectionsOpened()).isEqualTo(requests);
      assertThat(stats.closedAfterPeerFin()).isEqualTo(requests);
      assertThat(configuredPorts.timeWait()).isZero();
      assertThat(configuredPorts.awaitServerTimeWait(requests, SETTLE))
          .isBetween(requests - KernelTcp.strayResetsSince(before), requests);
    }
  }

  /**
   * The race itself, against the JDK's HttpServer, which closes a {@code Connection: close}
   * connection a moment after the response. (WireMock's Jetty sends its FIN with the response, so
   * OkHttp never wins the race there: 0 of 3000 in our runs.)
   */
  @Test
  void plainOkHttpRacesTheServersFinOnLoopbackWhereServerCloseNeverKeepsATimeWait() throws Exception {
    OkHttpClient plain = new OkHttpClient.Builder().protocols(List.of(Protocol.HTTP_1_1)).build();
    Race control = race(plain, true);
    TimeWaitOkHttp.shutdown(plain);
    System.out.printf("plain OkHttp, Connection: close, %d requests at %d threads: %d client "
        + "TIME_WAIT (at least), %d server TIME_WAIT%n", control.sent, RACE_THREADS,
        control.clientTimeWait, control.serverTimeWait);

    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient configured =
        TimeWaitOkHttp.configure(new OkHttpClient.Builder(), CloseStrategy.serverClose(), accounting).build();
    Race serverClose = race(configured, false);
    TimeWaitOkHttp.shutdown(configured);
    System.out.printf("server close, %d requests: %d client TIME_WAIT, %d server TIME_WAIT, %s%n",
        serverClose.sent, serverClose.clientTimeWait, serverClose.serverTimeWait, accounting);

    // The configured client's own checks hold whether or not the control showed the race.
    assertThat(serverClose.sent).isEqualTo(RACE_REQUESTS);
    assertThat(accounting.snapshot().closedLocallyFirst()).isZero();
    assertThat(serverClose.baseline).as("client TIME_WAIT towards the fresh port before the run").isZero();
    assertThat(serverClose.clientTimeWait).isZero();
    Assumptions.assumeTrue(control.clientTimeWait > 0,
        "the race did not show in " + control.sent + " requests on loopback: the server's FIN "
            + "arrived before OkHttp's close every time, so the zero above was not shown to be able"
            + " to fail here. The late-closing server test shows the same close deterministically.");
  }

  private record Race(int sent, int baseline, int clientTimeWait, int serverTimeWait) {}

  /** Runs the race load against a fresh JDK HttpServer; counts TIME_WAIT towards its port. */
  private static Race race(OkHttpClient client, boolean closeHeader) throws Exception {
    ExecutorService serverThreads = Executors.newFixedThreadPool(RACE_THREADS);
    // On a port no earlier socket used: TIME_WAIT towards an earlier server on the same port number
    // would blur the count (before, the check of the configured client was skipped then).
    HttpServer server = KernelTcp.startOnFreshPorts(() -> {
      HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
      s.setExecutor(serverThreads);
      s.createContext("/hello", exchange -> {
        byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      s.start();
      return s;
    }, s -> s.stop(0), s -> s.getAddress().getPort());
    ExecutorService workers = Executors.newFixedThreadPool(RACE_THREADS);
    try {
      int port = server.getAddress().getPort();
      // Entries towards an earlier server with this port number can only expire from now on, so
      // growth over this baseline never overstates the client's own TIME_WAIT.
      int baseline = KernelTcp.clientTimeWait(port);
      Request.Builder request = new Request.Builder().url("http://127.0.0.1:" + port + "/hello");
      if (closeHeader) {
        request.header("Connection", "close");
      }
      Request get = request.build();
      AtomicInteger next = new AtomicInteger();
      AtomicInteger sent = new AtomicInteger();
      long deadline = System.nanoTime() + RACE_BOUND.toNanos();
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < RACE_THREADS; t++) {
        futures.add(workers.submit(() -> {
          while (System.nanoTime() < deadline && next.getAndIncrement() < RACE_REQUESTS) {
            fetch(client, get);
            sent.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(Math.max(1, deadline + TimeUnit.SECONDS.toNanos(10) - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      KernelTcp.awaitClientSettled(port, SETTLE);
      return new Race(sent.get(), baseline, Math.max(0, KernelTcp.clientTimeWait(port) - baseline),
          KernelTcp.serverTimeWait(port));
    } finally {
      workers.shutdownNow();
      server.stop(0);
      serverThreads.shutdownNow();
    }
  }
}
