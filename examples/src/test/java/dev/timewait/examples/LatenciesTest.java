package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LatenciesTest {

  @Test
  void percentilesUseNearestRankOverRecordedSlotsOnly() {
    Latencies latencies = new Latencies(200);
    for (int i = 0; i < 100; i++) {
      latencies.record(i, (100 - i) * 1_000_000L); // 100 ms down to 1 ms, unsorted
    }

    assertThat(latencies.percentileMs(100, 50)).isEqualTo(50.0);
    assertThat(latencies.percentileMs(100, 99)).isEqualTo(99.0);
    assertThat(latencies.percentileMs(100, 100)).isEqualTo(100.0);
  }

  @Test
  void oneSampleIsEveryPercentile() {
    Latencies latencies = new Latencies(1);
    latencies.record(0, 1_500_000L);

    assertThat(latencies.percentileMs(1, 50)).isEqualTo(1.5);
    assertThat(latencies.percentileMs(1, 99)).isEqualTo(1.5);
  }

  @Test
  void noSamplesHaveNoPercentile() {
    assertThat(new Latencies(10).percentileMs(0, 50)).isNull();
  }

  @Test
  void percentileOutsideZeroToHundredIsRejected() {
    assertThatThrownBy(() -> Latencies.percentileMs(new long[] {1}, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("percentile must be in (0, 100], but was 0.0");
  }
}
