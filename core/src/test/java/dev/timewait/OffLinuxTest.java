package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every reader of the live kernel, with {@code os.name} set to another OS for the test: each
 * reports "unsupported on this OS" as data and none throws.
 */
class OffLinuxTest {
  private static final String OTHER_OS = "Mac OS X";
  private String osName;

  @BeforeEach
  void pretendToBeAnotherOs() {
    osName = System.getProperty("os.name");
    System.setProperty("os.name", OTHER_OS);
  }

  @AfterEach
  void restoreTheOs() {
    System.setProperty("os.name", osName);
  }

  @Test
  void everyLiveReaderReportsUnsupportedOnThisOsAsData() throws Exception {
    String reason = "unsupported on this OS: " + OTHER_OS;
    InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);

    KernelSettings settings = KernelSettings.read();
    assertThat(settings.supported()).isFalse();
    assertThat(settings.unsupportedReason()).isEqualTo(reason);

    KernelCounters counters = KernelCounters.read();
    assertThat(counters.supported()).isFalse();
    assertThat(counters.unsupportedReason()).isEqualTo(reason);
    assertThat(KernelCounters.systemTimeWait()).isEqualTo(KernelCounters.UNKNOWN);

    PortBudget budget = PortBudget.of(server);
    assertThat(budget.supported()).isFalse();
    assertThat(budget.unsupportedReason()).isEqualTo(reason);

    StrategyAdvice advice = StrategyAdvisor.advise(settings, Workload.builder().build());
    assertThat(advice.reasons().get(0)).startsWith("The kernel settings are unknown (" + reason);

    try (TimeWaitMonitor monitor = TimeWaitMonitor.builder().destination(server)
        .minHeadroomShare(1.0).build().start()) {
      assertThat(monitor.isRunning()).isFalse();
      monitor.checkBudget();
      assertThat(monitor.latest()).hasValueSatisfying(s -> assertThat(s.supported()).isFalse());
    }
  }
}
