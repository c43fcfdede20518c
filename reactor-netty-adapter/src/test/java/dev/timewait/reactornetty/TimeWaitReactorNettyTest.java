package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/** The entry point's checks, and what it hands back. */
class TimeWaitReactorNettyTest {
  private static final PooledKeepAlive POOLED = PooledKeepAlive.builder().maxTotal(4).build();

  @Test
  void nullArgumentsAreRejectedByName() {
    HttpClient client = HttpClient.newConnection();
    assertThatThrownBy(() -> TimeWaitReactorNetty.configure(null, CloseStrategy.reset()))
        .isInstanceOf(NullPointerException.class).hasMessage("client cannot be null");
    assertThatThrownBy(() -> TimeWaitReactorNetty.configure(client, null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitReactorNetty.configure(client, CloseStrategy.reset(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitReactorNetty.connectionProvider(null, CloseStrategy.reset()))
        .isInstanceOf(NullPointerException.class).hasMessage("name cannot be null");
    assertThatThrownBy(() -> TimeWaitReactorNetty.shutdown(null))
        .isInstanceOf(NullPointerException.class).hasMessage("client cannot be null");
  }

  @Test
  void aClientIsConfiguredOnce() {
    HttpClient once = TimeWaitReactorNetty.configure(HttpClient.newConnection(), CloseStrategy.reset());
    assertThatThrownBy(() -> TimeWaitReactorNetty.configure(once, CloseStrategy.reset()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("client must not be configured by TimeWaitReactorNetty yet");
  }

  @Test
  void pooledKeepAliveNeedsTheProviderMadeForItsStrategy() {
    ConnectionProvider reactors = ConnectionProvider.create("not-timewait");
    try {
      assertThatThrownBy(() -> TimeWaitReactorNetty.configure(HttpClient.create(reactors), POOLED))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("client's connectionProvider must be made by"
              + " TimeWaitReactorNetty.connectionProvider(name, strategy)");
      ConnectionProvider other = TimeWaitReactorNetty.connectionProvider("other",
          PooledKeepAlive.builder().maxTotal(8).build());
      assertThatThrownBy(() -> TimeWaitReactorNetty.configure(HttpClient.create(other), POOLED))
          .isInstanceOf(IllegalArgumentException.class);
      other.dispose();
    } finally {
      reactors.dispose();
    }
  }

  @Test
  void theProviderIsReactorNettysOwnBoundedByMaxPerRoute() {
    ConnectionProvider pooled = TimeWaitReactorNetty.connectionProvider("sized",
        PooledKeepAlive.builder().maxTotal(12).maxPerRoute(6).build());
    try {
      assertThat(pooled.maxConnections()).isEqualTo(6);
      assertThat(pooled.name()).isEqualTo("sized");
    } finally {
      pooled.dispose();
    }
    assertThat(TimeWaitReactorNetty.connectionProvider("x", CloseStrategy.serverClose()))
        .as("no pool").isSameAs(ConnectionProvider.newConnection());
  }

  @Test
  void anUnconfiguredClientHasNoAccounting() {
    assertThatThrownBy(() -> TimeWaitReactorNetty.accounting(HttpClient.newConnection()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("client must be configured by TimeWaitReactorNetty, but was not");
  }

  @Test
  void theConfiguredClientIsReactorNettysOwnSpeakingHttp11AndCountsIntoTheGivenAccounting()
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("own", POOLED)), POOLED, accounting);
    assertThat(client.configuration().protocols()).containsExactly(HttpProtocol.HTTP11);
    assertThat(TimeWaitReactorNetty.accounting(client)).isSameAs(accounting);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      for (int i = 0; i < 3; i++) {
        client.get().uri("http://127.0.0.1:" + peer.port() + "/").responseSingle((r, b) -> b.asString())
            .block(Duration.ofSeconds(10));
        Thread.sleep(100); // Reactor Netty releases the connection just after the call completed
      }
      TimeWaitReactorNetty.shutdown(client);
      TimeWaitReactorNetty.shutdown(client); // idempotent
      assertThat(peer.accepted()).isEqualTo(1);
    }
    assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(1);
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
  }

  @Test
  void shutdownOnAnEventLoopStartsTheClosesAndTheDisposalWithoutBlocking() throws Exception {
    // A reactive chain that ends its client (doOnNext, doFinally) calls shutdown on Reactor
    // Netty's event loop, a non-blocking thread where Reactor's block() throws
    // IllegalStateException and where no wait belongs.
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("on-loop", POOLED)), POOLED, accounting);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<String> thread = new AtomicReference<>();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      String body = client.get().uri("http://127.0.0.1:" + peer.port() + "/")
          .responseSingle((r, b) -> b.asString())
          .doOnNext(b -> {
            thread.set(Thread.currentThread().getName());
            try {
              TimeWaitReactorNetty.shutdown(client);
            } catch (Throwable t) {
              failure.set(t);
            }
          })
          .block(Duration.ofSeconds(10));
      assertThat(body).isNotNull();
      assertThat(failure.get()).as("shutdown on %s", thread.get()).isNull();
      assertThat(Leaks.await(() -> accounting.snapshot().open() == 0, Duration.ofSeconds(5)))
          .as("every connection closed: %s", accounting.snapshot()).isTrue();
      KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
      assertThat(KernelTcp.client(TcpState.TIME_WAIT, peer.port())).as("client TIME_WAIT").isZero();
      TimeWaitReactorNetty.shutdown(client); // again, from the test's thread: idempotent
    }
    assertThat(thread.get()).startsWith("reactor-http-");
    assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(1);
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
  }
}
