package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CloseStrategyTest {

  @Test
  void defaultsAreThePublishedConstants() {
    assertThat(CloseStrategy.serverClose().finWait()).isEqualTo(ServerClose.DEFAULT_FIN_WAIT).isEqualTo(Duration.ofSeconds(2));
    PooledKeepAlive pooled = CloseStrategy.pooled();
    assertThat(pooled.maxTotal()).isEqualTo(PooledKeepAlive.DEFAULT_MAX_TOTAL);
    assertThat(pooled.maxPerRoute()).isEqualTo(PooledKeepAlive.DEFAULT_MAX_PER_ROUTE);
    assertThat(pooled.idleTimeout()).isEqualTo(PooledKeepAlive.DEFAULT_IDLE_TIMEOUT);
    assertThat(pooled.maxLifetime()).isEqualTo(PooledKeepAlive.DEFAULT_MAX_LIFETIME);
    assertThat(pooled.maxRequestsPerConnection()).isEqualTo(PooledKeepAlive.DEFAULT_MAX_REQUESTS_PER_CONNECTION);
    assertThat(pooled.retirement()).isEqualTo(PooledKeepAlive.DEFAULT_RETIREMENT);
    assertThat(pooled.finWait()).isEqualTo(ServerClose.DEFAULT_FIN_WAIT);
  }

  @Test
  void eachStrategySaysHowItRetiresAConnection() {
    assertThat(CloseStrategy.serverClose().retirement()).isEqualTo(Retirement.SERVER_CLOSE);
    assertThat(CloseStrategy.reset().retirement()).isEqualTo(Retirement.RESET);
    assertThat(PooledKeepAlive.builder().retirement(Retirement.SERVER_CLOSE).build().retirement())
        .isEqualTo(Retirement.SERVER_CLOSE);
    assertThat(CloseStrategy.pooled().keepAlive()).isTrue();
    assertThat(CloseStrategy.reset().keepAlive()).isFalse();
    assertThat(CloseStrategy.serverClose().name()).isEqualTo("server-close");
  }

  @Test
  void eachStrategyHasAKindWhoseStableIdReadsBack() {
    assertThat(CloseStrategy.serverClose().kind()).isEqualTo(CloseStrategy.Kind.SERVER_CLOSE);
    assertThat(CloseStrategy.reset().kind()).isEqualTo(CloseStrategy.Kind.RESET);
    assertThat(CloseStrategy.pooled().kind()).isEqualTo(CloseStrategy.Kind.POOLED);
    for (CloseStrategy.Kind kind : CloseStrategy.Kind.values()) {
      assertThat(CloseStrategy.Kind.forId(kind.id())).isEqualTo(kind);
      assertThat(kind.defaults().kind()).isEqualTo(kind);
      assertThat(kind.defaults().name()).isEqualTo(kind.id());
    }
    assertThatThrownBy(() -> CloseStrategy.Kind.forId("linger"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("strategy must be one of server-close, reset, pooled, but was linger");
  }

  @Test
  void builderKeepsEveryValue() {
    PooledKeepAlive p = PooledKeepAlive.builder().maxTotal(8).maxPerRoute(4).idleTimeout(Duration.ofSeconds(5))
        .maxLifetime(Duration.ofMinutes(1)).maxRequestsPerConnection(10).retirement(Retirement.SERVER_CLOSE)
        .finWait(Duration.ofMillis(300)).retryUnanswered(false).build();
    assertThat(p).hasToString("PooledKeepAlive[maxTotal=8, maxPerRoute=4, idleTimeout=PT5S,"
        + " maxLifetime=PT1M, maxRequestsPerConnection=10, retirement=SERVER_CLOSE, finWait=PT0.3S,"
        + " staleCheckAfterIdle=" + PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE
        + ", retryUnanswered=false]");
    assertThat(PooledKeepAlive.builder().build().retryUnanswered()).isTrue();
    assertThat(p.toBuilder().build()).isEqualTo(p);
    assertThat(PooledKeepAlive.builder().maxTotal(4).build().maxPerRoute()).isEqualTo(4);
  }

  @Test
  void toBuilderLowersAWorkedOutPerRouteBoundWithMaxTotalAndKeepsAGivenOne() {
    // The default per-route bound (20) was worked out, not given: changing maxTotal alone must
    // not fail with "maxPerRoute must be <= maxTotal (8), but was 20".
    assertThat(CloseStrategy.pooled().toBuilder().maxTotal(8).build())
        .isEqualTo(PooledKeepAlive.builder().maxTotal(8).build())
        .extracting(PooledKeepAlive::maxPerRoute).isEqualTo(8);
    assertThat(PooledKeepAlive.builder().maxTotal(8).build().toBuilder().maxTotal(64).build().maxPerRoute())
        .isEqualTo(PooledKeepAlive.DEFAULT_MAX_PER_ROUTE);
    PooledKeepAlive given = PooledKeepAlive.builder().maxTotal(64).maxPerRoute(16).build();
    assertThat(given.toBuilder().maxTotal(32).build().maxPerRoute()).isEqualTo(16);
    assertThatThrownBy(() -> given.toBuilder().maxTotal(8).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPerRoute must be <= maxTotal (8), but was 16");
  }

  @Test
  void finWaitMustBePositiveAndBounded() {
    assertThatThrownBy(() -> ServerClose.builder().finWait(null))
        .isInstanceOf(NullPointerException.class).hasMessage("finWait cannot be null");
    assertThatThrownBy(() -> ServerClose.builder().finWait(Duration.ofMillis(-3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("finWait must be > 0, but was PT-0.003S");
    assertThatThrownBy(() -> ServerClose.builder().finWait(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("finWait must be > 0, but was PT0S");
    assertThatThrownBy(() -> ServerClose.builder().finWait(Duration.ofDays(3)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("finWait must be <= PT1M, but was PT72H");
  }

  @Test
  void poolSizesMustBeInRange() {
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxTotal(-3).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxTotal must be between 1 and 65535, but was -3");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxTotal(0).build())
        .hasMessage("maxTotal must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxTotal(1_000_000).build())
        .hasMessage("maxTotal must be between 1 and 65535, but was 1000000");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxPerRoute(0).build())
        .hasMessage("maxPerRoute must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxTotal(4).maxPerRoute(8).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxPerRoute must be <= maxTotal (4), but was 8");
  }

  @Test
  void durationsMustBeSane() {
    assertThatThrownBy(() -> PooledKeepAlive.builder().idleTimeout(null))
        .isInstanceOf(NullPointerException.class).hasMessage("idleTimeout cannot be null");
    assertThatThrownBy(() -> PooledKeepAlive.builder().idleTimeout(Duration.ofNanos(1)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("idleTimeout must be >= PT0.01S, but was PT0.000000001S");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxLifetime(Duration.ofSeconds(-1)).build())
        .hasMessage("maxLifetime must be > 0, but was PT-1S");
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxLifetime(Duration.ofDays(30)).build())
        .hasMessage("maxLifetime must be <= PT24H, but was PT720H");
    assertThatThrownBy(() -> PooledKeepAlive.builder().finWait(Duration.ZERO).build())
        .hasMessage("finWait must be > 0, but was PT0S");
  }

  @Test
  void requestCapAndRetirementAreChecked() {
    assertThatThrownBy(() -> PooledKeepAlive.builder().maxRequestsPerConnection(-3).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxRequestsPerConnection must be > 0, but was -3");
    assertThatThrownBy(() -> PooledKeepAlive.builder().retirement(null))
        .isInstanceOf(NullPointerException.class).hasMessage("retirement cannot be null");
  }

  @Test
  void factoryRejectsNulls() {
    assertThatThrownBy(() -> TimeWaitSocketFactory.create(null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThatThrownBy(() -> TimeWaitSocketFactory.create(CloseStrategy.reset(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitSocketFactory.observing().arm(null))
        .isInstanceOf(NullPointerException.class).hasMessage("socket cannot be null");
  }
}
