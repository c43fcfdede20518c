package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The diagnostics refuse a bad number before they start, naming the flag and the value. */
class DiagnosticArgumentsTest {
  @Test
  void soloRefusesZeroLegs() {
    assertThatThrownBy(() -> Solo.main(new String[] {"--legs", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--legs must be >= 1, but was 0");
  }

  @Test
  void cpuProfileRefusesSecondsThatAreNotANumber() {
    assertThatThrownBy(() -> CpuProfile.main(new String[] {"--seconds", "ten"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--seconds must be a whole number, but was ten");
  }

  @Test
  void allocationSitesRefusesNegativeRequests() {
    assertThatThrownBy(() -> AllocationSites.main(new String[] {"--requests", "-3"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--requests must be >= 1, but was -3");
  }

  @Test
  void syscallsRefusesAPairItDoesNotHave() {
    assertThatThrownBy(() -> Syscalls.main(new String[] {"--pairs", "1,4"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--pairs must name pairs 1 to 3, but was 4");
  }

  @Test
  void okHttpTaskRunnerRefusesZeroRounds() {
    assertThatThrownBy(() -> OkHttpTaskRunner.main(new String[] {"--rounds", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--rounds must be >= 1, but was 0");
  }

  @Test
  void resetPartsNamesItsVariantsAndRefusesZeroRounds() {
    assertThatThrownBy(() -> ResetParts.main(new String[] {"linger", "20"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("usage: ResetParts [--library reactor-netty|hc5|hc5-async|okhttp]"
            + " naive|rst|hooks|rst+hooks|timewait ROUNDS");
    assertThatThrownBy(() -> ResetParts.main(new String[] {"rst", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("rounds must be >= 1, but was 0");
  }

  @Test
  void resetPartsRefusesAVariantItsLibraryDoesNotHave() {
    assertThatThrownBy(() -> ResetParts.main(new String[] {"--library", "hc5", "rst", "20"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("variant rst is not one of hc5's: naive|timewait");
    assertThatThrownBy(() -> ResetParts.main(new String[] {"--library", "okhttp", "hooks", "20"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("variant hooks is not one of okhttp's: naive|rst|timewait");
  }

  @Test
  void resetCostRefusesZeroRoundsAndAVariantItsLibraryDoesNotHave() {
    assertThatThrownBy(() -> ResetCost.main(new String[] {"0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("rounds must be >= 1, but was 0");
    assertThatThrownBy(() -> ResetCost.main(new String[] {"--library", "hc5", "20", "rst", "naive"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("usage: ResetCost [--library hc5-async|hc5|okhttp|reactor-netty] ROUNDS"
            + " [A B, each timewait or naive; by default timewait naive]");
  }

  @Test
  void timelineRefusesZeroSeconds() {
    assertThatThrownBy(() -> Timeline.main(new String[] {"raw", "0", "0", "4"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("seconds must be >= 1, but was 0");
  }

  @Test
  void timelineNamesALibraryItDoesNotKnow() {
    assertThatThrownBy(() -> Timeline.main(new String[] {"--library", "jetty", "raw", "0", "8", "4"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("library unknown: jetty");
  }

  @Test
  void aFlagWithoutItsValueIsNamed() {
    assertThatThrownBy(() -> Solo.main(new String[] {"--concurrency"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--concurrency must be a whole number, but was null");
  }
}
