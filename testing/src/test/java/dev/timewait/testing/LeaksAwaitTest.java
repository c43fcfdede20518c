package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Leaks#await}: bounded, its poll honoured, its arguments checked. */
class LeaksAwaitTest {
  private static final Duration POLL = Duration.ofNanos(50_000);

  @Test
  void aConditionThatHoldsReturnsTrueAtOnce() {
    assertThat(Leaks.await(() -> true, Duration.ofSeconds(5), POLL)).isTrue();
  }

  @Test
  void aConditionThatNeverHoldsReturnsFalseOnceTheBoundIsUp() {
    long start = System.nanoTime();
    assertThat(Leaks.await(() -> false, Duration.ofMillis(50), POLL)).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
  }

  @Test
  void aConditionIsCheckedUntilItHolds() {
    AtomicInteger checks = new AtomicInteger();
    assertThat(Leaks.await(() -> checks.incrementAndGet() == 3, Duration.ofSeconds(5), POLL)).isTrue();
    assertThat(checks).hasValue(3);
  }

  @Test
  void anInterruptEndsTheWaitAndKeepsTheFlag() {
    Thread.currentThread().interrupt();
    try {
      assertThat(Leaks.await(() -> false, Duration.ofSeconds(30), POLL)).isFalse();
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void nullArgumentsAreNamed() {
    assertThatThrownBy(() -> Leaks.await(null, Duration.ofSeconds(1), POLL))
        .isInstanceOf(NullPointerException.class).hasMessage("condition cannot be null");
    assertThatThrownBy(() -> Leaks.await(() -> true, null, POLL))
        .isInstanceOf(NullPointerException.class).hasMessage("bound cannot be null");
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofSeconds(1), null))
        .isInstanceOf(NullPointerException.class).hasMessage("poll cannot be null");
  }

  @Test
  void aPollOutOfRangeIsRejectedWithItsValue() {
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofSeconds(1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("poll must be > 0, but was PT0S");
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofSeconds(1), Duration.ofMillis(-3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("poll must be > 0, but was PT-0.003S");
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofSeconds(1), Duration.ofMinutes(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("poll must be <= PT1M, but was PT2M");
  }

  @Test
  void aBoundOutOfRangeIsRejectedWithItsValue() {
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofMillis(-3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be >= 0, but was PT-0.003S");
    // Past MAX_WAIT; Long.MAX_VALUE seconds would once have overflowed toNanos() instead.
    assertThatThrownBy(() -> Leaks.await(() -> true, Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bound must be <= PT1H, but was PT");
  }

  @Test
  void aZeroBoundChecksTheConditionOnce() {
    AtomicInteger checks = new AtomicInteger();
    assertThat(Leaks.await(() -> checks.incrementAndGet() > 1, Duration.ZERO, POLL)).isFalse();
    assertThat(checks.get()).isBetween(1, 2);
  }
}
