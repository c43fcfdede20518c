package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.TimeWaitSocketFactory;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.net.SocketFactory;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The public API's argument checks and what configure() sets on the builder. No network. */
class TimeWaitOkHttpTest {

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(), CloseStrategy.pooled(),
        PooledKeepAlive.builder().retirement(dev.timewait.Retirement.SERVER_CLOSE).build());
  }

  @Test
  void nullArgumentsAreRejectedWithTheirNames() {
    OkHttpClient.Builder builder = new OkHttpClient.Builder();
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(null, CloseStrategy.reset()))
        .isInstanceOf(NullPointerException.class).hasMessage("builder cannot be null");
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(builder, null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(builder, CloseStrategy.reset(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitOkHttp.newClient(null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitOkHttp.accounting(null))
        .isInstanceOf(NullPointerException.class).hasMessage("client cannot be null");
    assertThatThrownBy(() -> TimeWaitOkHttp.shutdown(null))
        .isInstanceOf(NullPointerException.class).hasMessage("client cannot be null");
  }

  @Test
  void accountingOfAnUnconfiguredClientIsRejected() {
    assertThatThrownBy(() -> TimeWaitOkHttp.accounting(new OkHttpClient()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("client must be configured by TimeWaitOkHttp, but its socketFactory was ");
  }

  @Test
  void configureCallsNoEventListenerFactoryOfTheUsers() {
    // The supported-version probe is a call that never runs: a factory of the user's (metrics
    // per call) must not count it.
    java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().eventListenerFactory(call -> {
      created.incrementAndGet();
      return okhttp3.EventListener.NONE;
    }), CloseStrategy.reset()).build();
    TimeWaitOkHttp.shutdown(client);
    assertThat(created).hasValue(0);
  }

  @Test
  void aBuilderIsConfiguredOnlyOnce() {
    OkHttpClient.Builder builder = TimeWaitOkHttp.configure(new OkHttpClient.Builder(), CloseStrategy.reset());
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(builder, CloseStrategy.serverClose()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("builder must not be configured by TimeWaitOkHttp yet, but it was");
    OkHttpClient client = builder.build();
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(client.newBuilder(), CloseStrategy.serverClose()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("builder must not be configured by TimeWaitOkHttp yet, but it was");
  }

  @Test
  void aSocksProxyIsRejectedBecauseItBypassesTheSocketFactory() {
    Proxy socks = new Proxy(Proxy.Type.SOCKS, InetSocketAddress.createUnresolved("127.0.0.1", 1080));
    OkHttpClient.Builder builder = new OkHttpClient.Builder().proxy(socks);
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(builder, CloseStrategy.reset()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("proxy must not be a SOCKS proxy, but was SOCKS @ 127.0.0.1")
        .hasMessageContaining("without the socket factory");
  }

  @Test
  void anHttpProxyIsAccepted() {
    Proxy http = new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved("127.0.0.1", 3128));
    OkHttpClient client =
        TimeWaitOkHttp.configure(new OkHttpClient.Builder().proxy(http), CloseStrategy.reset()).build();
    assertThat(client.proxy()).isEqualTo(http);
  }

  @Test
  void aSocketFactoryOfTheUsersOwnIsNotSilentlyReplaced() {
    SocketFactory own = TimeWaitSocketFactory.observing();
    OkHttpClient.Builder builder = new OkHttpClient.Builder().socketFactory(own);
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(builder, CloseStrategy.reset()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("socketFactory must be OkHttp's default, but was ");
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void configureReturnsTheBuilderWithItsOwnPoolSocketFactoryAndHttp11(CloseStrategy strategy) {
    ConnectionPool shared = new ConnectionPool();
    OkHttpClient.Builder builder = new OkHttpClient.Builder().connectionPool(shared);
    CloseAccounting accounting = new CloseAccounting();

    assertThat(TimeWaitOkHttp.configure(builder, strategy, accounting)).isSameAs(builder);
    OkHttpClient client = builder.build();

    assertThat(client.connectionPool()).isNotSameAs(shared);
    assertThat(client.socketFactory()).isInstanceOf(TimeWaitSocketFactory.class);
    assertThat(((TimeWaitSocketFactory) client.socketFactory()).strategy()).isEqualTo(strategy);
    assertThat(TimeWaitOkHttp.accounting(client)).isSameAs(accounting);
    assertThat(TimeWaitOkHttp.accounting(client.newBuilder().build())).isSameAs(accounting);
    assertThat(client.protocols()).containsExactly(Protocol.HTTP_1_1);
    assertThat(client.networkInterceptors()).hasSize(1);
    // Pooled keep-alive: one interceptor for the slot bound and the unanswered-request retry (on
    // by default), with no application interceptor of the builder's own between them.
    assertThat(client.interceptors()).hasSize(strategy.keepAlive() ? 1 : 0);
  }

  @Test
  void eachConfigurationOwnsItsPool() {
    OkHttpClient base = new OkHttpClient();
    OkHttpClient a = TimeWaitOkHttp.configure(base.newBuilder(), CloseStrategy.reset()).build();
    OkHttpClient b = TimeWaitOkHttp.configure(base.newBuilder(), CloseStrategy.reset()).build();
    assertThat(a.connectionPool()).isNotSameAs(base.connectionPool()).isNotSameAs(b.connectionPool());
  }

  @Test
  void newClientBoundsTheDispatcherForPooledKeepAlive() {
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(6).maxPerRoute(3).build();
    OkHttpClient client = TimeWaitOkHttp.newClient(strategy);
    try {
      assertThat(client.dispatcher().getMaxRequests()).isEqualTo(6);
      assertThat(client.dispatcher().getMaxRequestsPerHost()).isEqualTo(3);
      assertThat(TimeWaitOkHttp.accounting(client).snapshot().connectionsOpened()).isZero();
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
  }

  @Test
  void keepAliveDurationsThatWouldSpinThePoolCleanupAreRejectedByTheStrategy() {
    assertThatThrownBy(() -> PooledKeepAlive.builder().idleTimeout(Duration.ofNanos(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("idleTimeout must be >= PT0.01S, but was PT0.000000001S");
  }

  @Test
  void shutdownIsIdempotent() {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.pooled());
    TimeWaitOkHttp.shutdown(client);
    TimeWaitOkHttp.shutdown(client);
    assertThat(client.dispatcher().executorService().isShutdown()).isTrue();
    assertThat(client.connectionPool().connectionCount()).isZero();
  }

  @Test
  void protocolsCanBeSetAgainAfterConfigure() {
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder(), CloseStrategy.pooled())
        .protocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1))
        .build();
    assertThat(client.protocols()).containsExactly(Protocol.HTTP_2, Protocol.HTTP_1_1);
  }

  @Test
  void optionsAllowHttp2OnlyForPooledResetAsHttpClient5sDo() {
    OkHttpOptions http2 = OkHttpOptions.builder().allowHttp2(true).build();
    OkHttpClient client = TimeWaitOkHttp.configure(
        new OkHttpClient.Builder(), CloseStrategy.pooled(), new CloseAccounting(), http2).build();
    assertThat(client.protocols()).containsExactly(Protocol.HTTP_2, Protocol.HTTP_1_1);
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(
            new OkHttpClient.Builder(), CloseStrategy.serverClose(), new CloseAccounting(), http2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("allowHttp2 needs a pooled strategy with RESET retirement: HTTP/2 has no"
            + " Connection: close, so server-close with SERVER_CLOSE retirement cannot run over it");
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(
            new OkHttpClient.Builder(), CloseStrategy.reset(), new CloseAccounting(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("options cannot be null");
  }

  @Test
  void optionsRejectBadValuesByName() {
    assertThat(OkHttpOptions.defaults().slotWait()).isEqualTo(OkHttpOptions.DEFAULT_SLOT_WAIT);
    assertThat(OkHttpOptions.defaults().toBuilder().build()).isEqualTo(OkHttpOptions.defaults());
    assertThatThrownBy(() -> OkHttpOptions.builder().slotWait(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("slotWait must be > 0, but was PT0S");
    // Past 24 hours; a million days once passed here and overflowed toNanos() at configure.
    assertThatThrownBy(() -> OkHttpOptions.builder().slotWait(Duration.ofDays(1_000_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("slotWait must be <= PT24H, but was PT24000000H");
    assertThat(OkHttpOptions.builder().slotWait(OkHttpOptions.MAX_SLOT_WAIT).build().slotWait())
        .isEqualTo(Duration.ofHours(24));
    assertThatThrownBy(() -> OkHttpOptions.builder().slotWait(null))
        .isInstanceOf(NullPointerException.class).hasMessage("slotWait cannot be null");
  }
}
