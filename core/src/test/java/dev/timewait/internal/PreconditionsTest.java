package dev.timewait.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The one preconditions helper: each check's message names the field and the value. */
class PreconditionsTest {
  private static final Duration MAX = Duration.ofMinutes(1);

  @Test
  void aNullIsNamed() {
    assertThatThrownBy(() -> Preconditions.checkNotNull(null, "strategy"))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
    assertThat(Preconditions.checkNotNull("x", "strategy")).isEqualTo("x");
  }

  @Test
  void aNumberOutOfRangeIsNamedWithItsValue() {
    assertThatThrownBy(() -> Preconditions.checkPositive(-3, "maxTotal"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxTotal must be > 0, but was -3");
    assertThatThrownBy(() -> Preconditions.checkNonNegative(-1L, "allowed"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("allowed must be >= 0, but was -1");
    assertThatThrownBy(() -> Preconditions.checkAtMost(1025, 1024, "maxConnections"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConnections must be <= 1024, but was 1025");
    assertThatThrownBy(() -> Preconditions.checkInRange(0, 1, 65535, "port"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> Preconditions.checkInRange(Double.NaN, 0, 1, "share"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("share must be between 0.0 and 1.0, but was NaN");
    assertThatThrownBy(() -> Preconditions.checkInRange(-5L, -1L, Long.MAX_VALUE, "timeWait"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeWait must be between -1 and 9223372036854775807, but was -5");
  }

  @Test
  void theBoundsThemselvesPass() {
    assertThat(Preconditions.checkPositive(1, "n")).isEqualTo(1);
    assertThat(Preconditions.checkNonNegative(0L, "n")).isZero();
    assertThat(Preconditions.checkAtMost(1024, 1024, "n")).isEqualTo(1024);
    assertThat(Preconditions.checkInRange(65535, 1, 65535, "port")).isEqualTo(65535);
    assertThat(Preconditions.checkInRange(-1L, -1L, Long.MAX_VALUE, "n")).isEqualTo(-1L);
    assertThat(Preconditions.checkPositive(MAX, MAX, "d")).isEqualTo(MAX);
    assertThat(Preconditions.checkNonNegative(Duration.ZERO, MAX, "d")).isEqualTo(Duration.ZERO);
    assertThat(Preconditions.checkNonNegative(MAX, MAX, "d")).isEqualTo(MAX);
  }

  @Test
  void aDurationOutOfRangeIsNamedWithItsValue() {
    assertThatThrownBy(() -> Preconditions.checkPositive(Duration.ZERO, MAX, "finWait"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("finWait must be > 0, but was PT0S");
    assertThatThrownBy(() -> Preconditions.checkPositive(Duration.ofMinutes(2), MAX, "finWait"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("finWait must be <= PT1M, but was PT2M");
    assertThatThrownBy(() -> Preconditions.checkNonNegative(Duration.ofMillis(-3), MAX, "settle"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("settle must be >= 0, but was PT-0.003S");
    assertThatThrownBy(() -> Preconditions.checkNonNegative(Duration.ofMinutes(2), MAX, "settle"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("settle must be <= PT1M, but was PT2M");
    assertThatThrownBy(() -> Preconditions.checkNonNegative(null, MAX, "settle"))
        .isInstanceOf(NullPointerException.class).hasMessage("settle cannot be null");
    assertThatThrownBy(() -> Preconditions.checkPositive(null, MAX, "finWait"))
        .isInstanceOf(NullPointerException.class).hasMessage("finWait cannot be null");
    Duration min = Duration.ofMillis(100);
    assertThat(Preconditions.checkBetween(min, min, MAX, "period")).isEqualTo(min);
    assertThat(Preconditions.checkBetween(MAX, min, MAX, "period")).isEqualTo(MAX);
    assertThatThrownBy(() -> Preconditions.checkBetween(Duration.ofMillis(10), min, MAX, "period"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("period must be >= PT0.1S, but was PT0.01S");
    assertThatThrownBy(() -> Preconditions.checkBetween(Duration.ofMillis(-3), min, MAX, "period"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("period must be >= PT0.1S, but was PT-0.003S");
    assertThatThrownBy(() -> Preconditions.checkBetween(Duration.ofMinutes(2), min, MAX, "period"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("period must be <= PT1M, but was PT2M");
    assertThatThrownBy(() -> Preconditions.checkBetween(null, min, MAX, "period"))
        .isInstanceOf(NullPointerException.class).hasMessage("period cannot be null");
  }

  @Test
  void aFailedArgumentCheckCarriesItsMessage() {
    assertThatThrownBy(() -> Preconditions.checkArgument(false, "ports must name at least one port"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ports must name at least one port");
    Preconditions.checkArgument(true, "unused");
  }
}
