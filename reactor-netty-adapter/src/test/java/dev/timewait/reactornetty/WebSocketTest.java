package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * A WebSocket over a configured client ({@code HttpClient.websocket()}, as Spring's {@code
 * ReactorNettyWebSocketClient} uses it): its handshake keeps {@code Connection: Upgrade} under
 * every strategy (with {@code Connection: close} instead, which every request of server close and
 * reset carries, and a pooled connection's last request, the server refuses it), and the client
 * keeps no TIME_WAIT when it ends.
 */
class WebSocketTest {
  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(),
        // Every request the connection's last: the handshake is one.
        PooledKeepAlive.builder().maxTotal(4).maxRequestsPerConnection(1).build());
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void aWebSocketHandshakeKeepsItsUpgradeUnderEveryStrategy(CloseStrategy strategy) throws Exception {
    // On a fresh port: client TIME_WAIT that an earlier test left towards a port bind(0) hands out
    // again would count as this test's.
    DisposableServer server = KernelTcp.startOnFreshPorts(() -> HttpServer.create().host("127.0.0.1").port(0)
        .route(routes -> routes.ws("/ws", (in, out) -> out.sendString(Mono.just("hi"))))
        .bindNow(BOUND), s -> s.disposeNow(BOUND), DisposableServer::port);
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("ws", strategy)), strategy, accounting);
    try {
      String received = client.websocket().uri("ws://127.0.0.1:" + server.port() + "/ws")
          .handle((in, out) -> in.receive().asString().take(1))
          .blockFirst(BOUND);
      assertThat(received).as("the server's message").isEqualTo("hi");
      TimeWaitReactorNetty.shutdown(client);
      KernelTcp.awaitClientSettled(server.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(server.port())).as("client TIME_WAIT; %s", accounting.snapshot())
          .isZero();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
      server.disposeNow(BOUND);
    }
  }
}
