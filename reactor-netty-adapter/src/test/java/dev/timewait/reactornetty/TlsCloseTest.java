package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;

/**
 * How Netty's {@code SslHandler} ends a connection, and what the adapter makes of it, against a
 * peer that closes only after the client ({@link RawHttpPeer.Behaviour#AWAIT_CLIENT_CLOSE}), so
 * that whichever side sends the first FIN shows in the kernel's table. Reactor Netty closes a
 * {@code newConnection()} connection after its response; over TLS the {@code SslHandler} sends
 * close_notify and then closes the channel at once (Reactor Netty's {@code closeNotifyReadTimeout}
 * is 0): the client's FIN goes first, as with the JDK's {@code SSLSocket}, and the client keeps
 * TIME_WAIT, plain or TLS. Configured, the same close resets.
 */
class TlsCloseTest {
  private static final int REQUESTS = 20;
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  private static URI uri(RawHttpPeer peer, boolean tls) {
    return URI.create((tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/tls");
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void reactorNettyAloneClosesFirstWithAFinAfterItsCloseNotifyAndKeepsTimeWait(boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      HttpClient raw = ReactorNettyClient.trusting(HttpClient.newConnection()).protocol(HttpProtocol.HTTP11);
      for (int i = 0; i < REQUESTS; i++) {
        raw.get().uri(uri(peer, tls)).responseSingle((r, body) -> body.asString()).block(Duration.ofSeconds(10));
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port()))
          .isGreaterThanOrEqualTo(REQUESTS * 9 / 10);
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void configuredTheSameCloseResetsAfterTheCloseNotify(boolean tls) throws Exception {
    for (CloseStrategy strategy : new CloseStrategy[] {CloseStrategy.reset(), CloseStrategy.serverClose(),
        PooledKeepAlive.builder().maxTotal(2).maxRequestsPerConnection(5).build()}) {
      try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
        CloseAccounting accounting = new CloseAccounting();
        try (ReactorNettyClient client = ReactorNettyClient.configured(
            strategy instanceof PooledKeepAlive ? strategy
                : strategy, accounting, Duration.ofSeconds(10), true)) {
          for (int i = 0; i < REQUESTS; i++) {
            assertThat(client.get(uri(peer, tls))).isEqualTo(200);
          }
        }
        KernelTcp.awaitClientSettled(peer.port(), SETTLE);
        CloseStats stats = accounting.snapshot();
        assertThat(stats.closedLocallyFirst()).as("%s %s", strategy, stats).isZero();
        assertThat(stats.open()).as("%s %s", strategy, stats).isZero();
        assertThat(KernelTcp.clientTimeWait(peer.port())).as("%s %s", strategy, KernelTcp.describe(peer.port()))
            .isZero();
      }
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aLingerTheClientSetsAfterConfigureDoesNotTurnTheResetIntoAFinFirstClose(boolean tls) throws Exception {
    // The adapter sets SO_LINGER(0) as each channel is initialised, after the bootstrap's options,
    // and a reset close relies on it without setting it again: a user's linger must not stand.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      HttpClient client = ReactorNettyClient.trusting(
          TimeWaitReactorNetty.configure(HttpClient.newConnection(), CloseStrategy.reset(), accounting)
              .option(ChannelOption.SO_LINGER, 5));
      for (int i = 0; i < REQUESTS; i++) {
        client.get().uri(uri(peer, tls)).responseSingle((r, body) -> body.asString()).block(Duration.ofSeconds(10));
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      // A channel's close is counted when it goes inactive on its event loop, which may be just
      // after block() returned the last response: wait for it, bounded.
      Leaks.await(() -> accounting.snapshot().open() == 0, SETTLE);
      assertThat(accounting.snapshot().closedByReset()).as("%s", accounting.snapshot()).isEqualTo(REQUESTS);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port())).isZero();
    }
  }
}
