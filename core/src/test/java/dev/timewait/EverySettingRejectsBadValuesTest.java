package dev.timewait;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every setting of core's public configuration (the strategies' builders and the socket
 * factory), given null, negative, zero and absurd values: each fails at once with NPE "x cannot be
 * null" or an IAE whose message names the setting and the bad value. {@link CloseStrategyTest}
 * pins some exact messages; this one sweeps all the settings. The diagnostics' settings (the
 * monitor's and the workload's builders, the advisor, the port budget) have their own sweep in
 * timewait-diagnostics.
 */
class EverySettingRejectsBadValuesTest {
  private static final Duration NEGATIVE = Duration.ofSeconds(-3);
  private static final Duration ABSURD = Duration.ofDays(365L * 1000);

  private static Arguments nul(String setting, ThrowingCallable call) {
    return Arguments.of(setting, "null", call);
  }

  private static Arguments bad(String setting, Object value, ThrowingCallable call) {
    return Arguments.of(setting, String.valueOf(value), call);
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        // ServerClose
        nul("finWait", () -> ServerClose.builder().finWait(null)),
        bad("finWait", NEGATIVE, () -> ServerClose.builder().finWait(NEGATIVE)),
        bad("finWait", Duration.ZERO, () -> ServerClose.builder().finWait(Duration.ZERO)),
        bad("finWait", Duration.ofNanos(999_999), () -> ServerClose.builder().finWait(Duration.ofNanos(999_999))),
        bad("finWait", ABSURD, () -> ServerClose.builder().finWait(ABSURD)),
        // PooledKeepAlive
        bad("maxTotal", -3, () -> PooledKeepAlive.builder().maxTotal(-3).build()),
        bad("maxTotal", 0, () -> PooledKeepAlive.builder().maxTotal(0).build()),
        bad("maxTotal", Integer.MAX_VALUE, () -> PooledKeepAlive.builder().maxTotal(Integer.MAX_VALUE).build()),
        bad("maxPerRoute", -1, () -> PooledKeepAlive.builder().maxPerRoute(-1).build()),
        bad("maxPerRoute", 0, () -> PooledKeepAlive.builder().maxPerRoute(0).build()),
        bad("maxPerRoute", 1_000_000, () -> PooledKeepAlive.builder().maxPerRoute(1_000_000).build()),
        bad("maxPerRoute", 30, () -> PooledKeepAlive.builder().maxTotal(20).maxPerRoute(30).build()),
        nul("idleTimeout", () -> PooledKeepAlive.builder().idleTimeout(null)),
        bad("idleTimeout", NEGATIVE, () -> PooledKeepAlive.builder().idleTimeout(NEGATIVE).build()),
        bad("idleTimeout", Duration.ZERO, () -> PooledKeepAlive.builder().idleTimeout(Duration.ZERO).build()),
        bad("idleTimeout", ABSURD, () -> PooledKeepAlive.builder().idleTimeout(ABSURD).build()),
        nul("maxLifetime", () -> PooledKeepAlive.builder().maxLifetime(null)),
        bad("maxLifetime", NEGATIVE, () -> PooledKeepAlive.builder().maxLifetime(NEGATIVE).build()),
        bad("maxLifetime", Duration.ZERO, () -> PooledKeepAlive.builder().maxLifetime(Duration.ZERO).build()),
        bad("maxLifetime", ABSURD, () -> PooledKeepAlive.builder().maxLifetime(ABSURD).build()),
        bad("maxRequestsPerConnection", -3, () -> PooledKeepAlive.builder().maxRequestsPerConnection(-3).build()),
        bad("maxRequestsPerConnection", 0, () -> PooledKeepAlive.builder().maxRequestsPerConnection(0).build()),
        nul("retirement", () -> PooledKeepAlive.builder().retirement(null)),
        nul("finWait", () -> PooledKeepAlive.builder().finWait(null)),
        bad("finWait", NEGATIVE, () -> PooledKeepAlive.builder().finWait(NEGATIVE).build()),
        bad("finWait", Duration.ZERO, () -> PooledKeepAlive.builder().finWait(Duration.ZERO).build()),
        bad("finWait", Duration.ofNanos(1), () -> PooledKeepAlive.builder().finWait(Duration.ofNanos(1)).build()),
        bad("finWait", ABSURD, () -> PooledKeepAlive.builder().finWait(ABSURD).build()),
        nul("staleCheckAfterIdle", () -> PooledKeepAlive.builder().staleCheckAfterIdle(null)),
        bad("staleCheckAfterIdle", NEGATIVE,
            () -> PooledKeepAlive.builder().staleCheckAfterIdle(NEGATIVE).build()),
        bad("staleCheckAfterIdle", ABSURD,
            () -> PooledKeepAlive.builder().staleCheckAfterIdle(ABSURD).build()),
        // TimeWaitSocketFactory
        nul("strategy", () -> TimeWaitSocketFactory.create(null)),
        nul("accounting", () -> TimeWaitSocketFactory.create(CloseStrategy.reset(), null)),
        nul("accounting", () -> TimeWaitSocketFactory.observing(null)));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badValues")
  void eachBadValueFailsNamingTheSettingAndTheValue(String setting, String value, ThrowingCallable call) {
    if (value.equals("null")) {
      assertThatThrownBy(call).isInstanceOf(NullPointerException.class)
          .hasMessage(setting + " cannot be null");
    } else {
      assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(setting)
          .hasMessageContaining(value);
    }
  }
}
