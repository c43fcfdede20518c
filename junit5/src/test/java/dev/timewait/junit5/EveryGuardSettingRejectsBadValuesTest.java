package dev.timewait.junit5;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every setting of {@link TimeWaitGuard.Builder} with null, negative, zero and absurd values: NPE
 * "x cannot be null", or an IAE naming the setting and the value. Fills the cases that
 * {@code TimeWaitGuardTest.theBuilderRejectsBadValuesWithMessagesThatNameThem} leaves out.
 */
class EveryGuardSettingRejectsBadValuesTest {

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("port", "-1", (ThrowingCallable) () -> TimeWaitGuard.builder().port(-1)),
        Arguments.of("port", "70000", (ThrowingCallable) () -> TimeWaitGuard.builder().port(70_000)),
        Arguments.of("port", "2147483647", (ThrowingCallable) () -> TimeWaitGuard.builder().port(Integer.MAX_VALUE)),
        Arguments.of("destination", "null",
            (ThrowingCallable) () -> TimeWaitGuard.builder().destination((InetSocketAddress) null)),
        Arguments.of("destination", "null",
            (ThrowingCallable) () -> TimeWaitGuard.builder().destination((Supplier<?>) null)),
        Arguments.of("allowed", "-2147483648",
            (ThrowingCallable) () -> TimeWaitGuard.builder().allowed(Integer.MIN_VALUE)),
        Arguments.of("settle", "null", (ThrowingCallable) () -> TimeWaitGuard.builder().settle(null)),
        Arguments.of("settle", "PT-0.001S",
            (ThrowingCallable) () -> TimeWaitGuard.builder().settle(Duration.ofMillis(-1))),
        Arguments.of("settle", "PT8760000H",
            (ThrowingCallable) () -> TimeWaitGuard.builder().settle(Duration.ofDays(365_000))),
        Arguments.of("table", "null", (ThrowingCallable) () -> TimeWaitGuard.builder().table(null)));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badValues")
  void eachBadValueFailsNamingTheSettingAndTheValue(String setting, String value, ThrowingCallable call) {
    if (value.equals("null")) {
      assertThatThrownBy(call).isInstanceOf(NullPointerException.class)
          .hasMessage(setting + " cannot be null");
    } else {
      assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(setting).hasMessageContaining(value);
    }
  }
}
