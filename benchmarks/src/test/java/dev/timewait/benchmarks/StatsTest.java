package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void medianConfidenceIntervalIsTheSignTestsOrderStatistics() {
    double[] values = new double[36];
    for (int i = 0; i < values.length; i++) {
      values[i] = 36 - i; // 36 .. 1, unsorted on purpose
    }
    Stats.Spread spread = Stats.Spread.of(values);

    // n = 36: k = floor((36 - 1.96 * 6) / 2) = 12, so the 12th and the 25th smallest
    assertThat(spread.median()).isEqualTo(18.5);
    assertThat(spread.ciLow()).isEqualTo(12);
    assertThat(spread.ciHigh()).isEqualTo(25);
    assertThat(spread.ci()).isEqualTo("12.00-25.00");
  }

  @Test
  void tooFewValuesForAnIntervalGiveMinAndMax() {
    Stats.Spread spread = Stats.Spread.of(new double[] {1.2, 0.9, 1.0});

    assertThat(spread.ciLow()).isEqualTo(0.9);
    assertThat(spread.ciHigh()).isEqualTo(1.2);
  }

  @Test
  void histogramQuantilesSurviveEncodingAndMerging() {
    Histogram a = new Histogram();
    Histogram b = new Histogram();
    for (int i = 1; i <= 100; i++) {
      a.record(i * 1_000L); // 1 µs .. 100 µs
      b.record(i * 1_000L + 100_000L); // 101 µs .. 200 µs
    }
    Histogram merged = Histogram.decode(a.encode());
    merged.add(Histogram.decode(b.encode()));

    assertThat(a.quantileMillis(0.99)).isEqualTo(0.0991); // the 99th: 99 µs, in the bucket [99.0, 99.1) µs
    assertThat(merged.quantileMillis(0.50)).isEqualTo(0.1001);
    assertThat(merged.quantileMillis(0.99)).isEqualTo(0.1981);
    assertThat(Histogram.decode(new Histogram().encode()).quantileMillis(0.5)).isNaN();
  }
}
