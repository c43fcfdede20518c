package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.testing.TestTls;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.Test;

/** Arguments of {@link TimeWaitHttpClient5} and {@link HttpClient5Options}, and their messages. */
class TimeWaitHttpClient5ValidationTest {
  private static final CloseStrategy STRATEGY = CloseStrategy.serverClose();
  private static final CloseAccounting ACCOUNTING = new CloseAccounting();

  @Test
  void classicConfigureRejectsNullsWithTheirNames() {
    HttpClientBuilder builder = HttpClients.custom();
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure((HttpClientBuilder) null, STRATEGY))
        .isInstanceOf(NullPointerException.class).hasMessage("builder cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, ACCOUNTING, (SSLContext) null))
        .isInstanceOf(NullPointerException.class).hasMessage("sslContext cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, ACCOUNTING, (HttpClient5Options) null))
        .isInstanceOf(NullPointerException.class).hasMessage("options cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.newClient(null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
  }

  @Test
  void asyncConfigureRejectsNullsWithTheirNames() {
    HttpAsyncClientBuilder builder = HttpAsyncClients.custom();
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure((HttpAsyncClientBuilder) null, STRATEGY))
        .isInstanceOf(NullPointerException.class).hasMessage("builder cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, ACCOUNTING, (SSLContext) null))
        .isInstanceOf(NullPointerException.class).hasMessage("sslContext cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, ACCOUNTING, (HttpClient5Options) null))
        .isInstanceOf(NullPointerException.class).hasMessage("options cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.newAsyncClient(null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitHttpClient5.newAsyncClient(STRATEGY, null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
  }

  @Test
  void configureReturnsTheSameBuilder() {
    HttpClientBuilder classic = HttpClients.custom();
    HttpAsyncClientBuilder async = HttpAsyncClients.custom();
    assertThat(TimeWaitHttpClient5.configure(classic, CloseStrategy.reset())).isSameAs(classic);
    assertThat(TimeWaitHttpClient5.configure(async, CloseStrategy.reset())).isSameAs(async);
  }

  @Test
  void optionsRejectBadValuesWithTheirNames() {
    assertThatThrownBy(() -> HttpClient5Options.builder().maxConnections(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConnections must be > 0, but was 0");
    assertThatThrownBy(() -> HttpClient5Options.builder().maxConnections(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConnections must be > 0, but was -3");
    assertThatThrownBy(() -> HttpClient5Options.builder().maxConnections(70_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConnections must be <= 65535, but was 70000");
    assertThatThrownBy(() -> HttpClient5Options.builder().sslContext(null))
        .isInstanceOf(NullPointerException.class).hasMessage("sslContext cannot be null");
  }

  @Test
  void optionsHaveTheirDocumentedDefaultsAndRoundTrip() {
    HttpClient5Options defaults = HttpClient5Options.defaults();
    assertThat(defaults.maxConnections()).isEqualTo(HttpClient5Options.DEFAULT_MAX_CONNECTIONS);
    assertThat(defaults.allowHttp2()).isEqualTo(HttpClient5Options.DEFAULT_ALLOW_HTTP2).isFalse();
    assertThat(defaults.sslContext()).isEmpty();
    HttpClient5Options custom = HttpClient5Options.builder()
        .sslContext(TestTls.get().clientContext()).maxConnections(7).allowHttp2(true).build();
    assertThat(custom.toBuilder().build()).isEqualTo(custom).hasSameHashCodeAs(custom);
    assertThat(custom).isNotEqualTo(defaults);
  }

  @Test
  void http2IsRefusedLoudlyForStrategiesThatNeedConnectionClose() {
    HttpClient5Options http2 = HttpClient5Options.builder().allowHttp2(true).build();
    PooledKeepAlive pooledServerClose =
        PooledKeepAlive.builder().retirement(Retirement.SERVER_CLOSE).build();
    for (CloseStrategy strategy : new CloseStrategy[] {
        CloseStrategy.serverClose(), CloseStrategy.reset(), pooledServerClose}) {
      assertThatThrownBy(() ->
              TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy, ACCOUNTING, http2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("allowHttp2 needs a pooled strategy with RESET retirement");
      // The classic client too (HTTP/1.1 only): one options object, one answer from both clients.
      assertThatThrownBy(() ->
              TimeWaitHttpClient5.configure(HttpClients.custom(), strategy, ACCOUNTING, http2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("allowHttp2 needs a pooled strategy with RESET retirement");
    }
    HttpAsyncClientBuilder builder = HttpAsyncClients.custom();
    assertThat(TimeWaitHttpClient5.configure(builder, CloseStrategy.pooled(), ACCOUNTING, http2))
        .isSameAs(builder);
  }

  @Test
  void configuringAClassicBuilderTwiceIsRejectedLikeTheOkHttpAdapterDoes() {
    HttpClientBuilder builder = TimeWaitHttpClient5.configure(HttpClients.custom(), CloseStrategy.reset());
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, CloseStrategy.serverClose()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("builder must not be configured by TimeWaitHttpClient5 yet, but it was (for "
            + CloseStrategy.reset() + "); configure a builder once");
    // Every overload goes through the same check.
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, STRATEGY, ACCOUNTING,
            HttpClient5Options.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("builder must not be configured by TimeWaitHttpClient5 yet, but it was");
  }

  @Test
  void configuringAnAsyncBuilderTwiceIsRejectedLikeTheOkHttpAdapterDoes() {
    HttpAsyncClientBuilder builder =
        TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), CloseStrategy.pooled());
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, CloseStrategy.pooled(), ACCOUNTING))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("builder must not be configured by TimeWaitHttpClient5 yet, but it was (for "
            + CloseStrategy.pooled() + "); configure a builder once");
  }

  @Test
  void aConfigureThatWasRefusedLeavesTheBuilderFreeToConfigure() {
    HttpAsyncClientBuilder builder = HttpAsyncClients.custom();
    HttpClient5Options http2 = HttpClient5Options.builder().allowHttp2(true).build();
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(builder, CloseStrategy.reset(), ACCOUNTING, http2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("allowHttp2 needs a pooled strategy");
    assertThat(TimeWaitHttpClient5.configure(builder, CloseStrategy.reset(), ACCOUNTING)).isSameAs(builder);
  }

  @Test
  void separateBuildersAreConfiguredIndependently() {
    HttpClientBuilder first = HttpClients.custom();
    HttpClientBuilder second = HttpClients.custom();
    assertThat(TimeWaitHttpClient5.configure(first, STRATEGY)).isSameAs(first);
    assertThat(TimeWaitHttpClient5.configure(second, STRATEGY)).isSameAs(second);
  }
}
