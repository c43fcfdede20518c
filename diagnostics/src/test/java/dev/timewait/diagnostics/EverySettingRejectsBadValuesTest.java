package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every setting of the diagnostics' public configuration (the monitor's builder, the workload's
 * builder, the advisor, the port budget and the TCP filters), given null, negative, zero,
 * NaN/infinite and absurd values: each fails at once with NPE "x cannot be null" or an IAE whose
 * message names the setting and the bad value. {@code TimeWaitMonitorTest} pins some exact
 * messages; this one sweeps all the settings. Core's settings have their own sweep in
 * timewait-core.
 */
class EverySettingRejectsBadValuesTest {
  private static final Duration NEGATIVE = Duration.ofSeconds(-3);
  private static final Duration ABSURD = Duration.ofDays(365L * 1000);
  private static final InetSocketAddress LOOPBACK_80 =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 80);

  private static Arguments nul(String setting, ThrowingCallable call) {
    return Arguments.of(setting, "null", call);
  }

  private static Arguments bad(String setting, Object value, ThrowingCallable call) {
    return Arguments.of(setting, String.valueOf(value), call);
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        // TimeWaitMonitor
        nul("destination", () -> TimeWaitMonitor.builder().destination(null)),
        bad("destination port", 0, () -> TimeWaitMonitor.builder()
            .destination(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))),
        bad("destination", "does-not-exist.invalid", () -> TimeWaitMonitor.builder()
            .destination(InetSocketAddress.createUnresolved("does-not-exist.invalid", 80))),
        nul("destinations", () -> TimeWaitMonitor.builder().destinations(null)),
        nul("period", () -> TimeWaitMonitor.builder().period(null)),
        bad("period", NEGATIVE, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).period(NEGATIVE).build()),
        bad("period", Duration.ZERO, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).period(Duration.ZERO).build()),
        bad("period", ABSURD, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).period(ABSURD).build()),
        bad("period", Duration.ofNanos(1), () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).period(Duration.ofNanos(1)).build()),
        bad("warnShare", -0.5, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).warnShare(-0.5).build()),
        bad("warnShare", 0.0, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).warnShare(0).build()),
        bad("warnShare", 7.0, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).warnShare(7).build()),
        bad("warnShare", Double.NaN, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).warnShare(Double.NaN).build()),
        bad("warnShare", Double.POSITIVE_INFINITY, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).warnShare(Double.POSITIVE_INFINITY).build()),
        bad("minHeadroomShare", -0.1, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).minHeadroomShare(-0.1).build()),
        bad("minHeadroomShare", 1.5, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).minHeadroomShare(1.5).build()),
        bad("minHeadroomShare", Double.NaN, () -> TimeWaitMonitor.builder().destination(LOOPBACK_80).minHeadroomShare(Double.NaN).build()),
        nul("listener", () -> TimeWaitMonitor.builder().listener(null)),
        nul("settings", () -> TimeWaitMonitor.builder().settings(null)),
        nul("table", () -> TimeWaitMonitor.builder().table(null)),
        // Workload
        bad("newConnectionsPerSecond", -1.0, () -> Workload.builder().newConnectionsPerSecond(-1).build()),
        bad("newConnectionsPerSecond", Double.NaN, () -> Workload.builder().newConnectionsPerSecond(Double.NaN).build()),
        bad("newConnectionsPerSecond", Double.POSITIVE_INFINITY,
            () -> Workload.builder().newConnectionsPerSecond(Double.POSITIVE_INFINITY).build()),
        bad("newConnectionsPerSecond", 1e15, () -> Workload.builder().newConnectionsPerSecond(1e15).build()),
        // StrategyAdvisor, PortBudget
        nul("settings", () -> StrategyAdvisor.advise(null, Workload.builder().build())),
        nul("workload", () -> StrategyAdvisor.advise(KernelSettings.read(), null)),
        nul("destination", () -> PortBudget.of(null)));
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

  /** A filter refuses a port that no connection can have. */
  @Test
  void filterPortsAreChecked() {
    assertThatThrownBy(() -> TcpFilter.remotePort(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("remotePort must be between 1 and 65535, but was 0");
  }
}
