package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * What a configured client switched back to HTTP/2 does ({@code protocol(H2C)} after {@code
 * configure}, against Reactor Netty's own h2c server on loopback, which closes a connection idle
 * for {@link #SERVER_IDLE}). Whatever the strategy, Reactor Netty's HTTP/2 pool carries every
 * request on one multiplexed connection, even on {@code ConnectionProvider.newConnection()}, so no
 * connection closes per request and the request cap is not applied; the socket handler stays in
 * the pipeline, so a connection the server ends when idle, and those {@code shutdown} closes,
 * leave no client TIME_WAIT. The exchange rules (Connection: close, the cap) need the HTTP/1.1
 * codec and do not run.
 */
class Http2Test {
  private static final int REQUESTS = 30;
  /**
   * Long enough that no pause between two of the 30 sequential requests (a loaded CI machine's GC
   * or JIT) lets the server close the connection in the middle of them.
   */
  private static final Duration SERVER_IDLE = Duration.ofSeconds(2);
  private static final Duration CALL = Duration.ofSeconds(10);

  private DisposableServer server;

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.reset(), CloseStrategy.serverClose(),
        PooledKeepAlive.builder().maxTotal(4).maxPerRoute(4).maxRequestsPerConnection(10).build());
  }

  @BeforeEach
  void start() throws Exception {
    KernelTcp.assumeReadable();
    server = KernelTcp.startOnFreshPorts(
        () -> HttpServer.create().host("127.0.0.1").port(0).protocol(HttpProtocol.H2C)
            .idleTimeout(SERVER_IDLE)
            .route(r -> r.get("/h2", (req, res) -> res.sendString(Mono.just(req.version().text()))))
            .bindNow(),
        DisposableServer::disposeNow, DisposableServer::port);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.disposeNow();
    }
  }

  private String get(HttpClient client) {
    return client.get().uri("http://127.0.0.1:" + server.port() + "/h2")
        .responseSingle((response, body) -> body.asString()).block(CALL);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void overH2cEveryRequestSharesOneConnectionAndItsClosesLeaveNoClientTimeWait(CloseStrategy strategy)
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = TimeWaitReactorNetty.configure(
            HttpClient.create(TimeWaitReactorNetty.connectionProvider("h2", strategy)), strategy, accounting)
        .protocol(HttpProtocol.H2C);
    try {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(get(client)).as("the version the server saw").isEqualTo("HTTP/2.0");
      }
      CloseStats busy = accounting.snapshot();
      assertThat(busy.connectionsOpened()).as("multiplexed, the cap of 10 not applied: %s", busy)
          .isEqualTo(1);
      assertThat(busy.closed()).as("%s", busy).isZero();

      // The server ends the idle connection; the next request opens another one.
      long deadline = System.nanoTime() + CALL.toNanos();
      while (accounting.snapshot().closed() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(accounting.snapshot().closed()).as("closed by the server's idle timeout").isEqualTo(1);
      assertThat(get(client)).isEqualTo("HTTP/2.0");
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
    KernelTcp.awaitClientSettled(server.port(), Duration.ofSeconds(5));
    CloseStats after = accounting.snapshot();
    assertThat(after.connectionsOpened()).as("%s", after).isEqualTo(2);
    assertThat(after.open()).as("%s", after).isZero();
    assertThat(after.closedLocallyFirst()).as("%s", after).isZero();
    assertThat(KernelTcp.clientTimeWait(server.port())).as(KernelTcp.describe(server.port())).isZero();
  }
}
