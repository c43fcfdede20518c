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

    // n = 36: P(B(36, 1/2) <= 11) = 0.0144, P(B <= 12) = 0.0326: k = 12, the 12th and the 25th smallest
    assertThat(spread.median()).isEqualTo(18.5);
    assertThat(spread.ciLow()).isEqualTo(12);
    assertThat(spread.ciHigh()).isEqualTo(25);
    assertThat(spread.ci()).isEqualTo("12.00-25.00");
  }

  @Test
  void tenForksMediansGiveTheSecondAndNinthAsTheExactSignTestDoes() {
    // P(B(10, 1/2) <= 1) = 11/1024 = 0.0107, P(B <= 2) = 56/1024 = 0.0547: k = 2
    Stats.Spread spread = Stats.Spread.of(new double[] {0.96, 1.00, 0.93, 0.94, 0.93, 0.84, 0.90, 0.77, 0.88, 0.96});

    assertThat(spread.ci()).isEqualTo("0.84-0.96");
    assertThat(Stats.signTestRank(10)).isEqualTo(2);
    assertThat(Stats.signTestRank(5)).isZero(); // P(B(5, 1/2) = 0) = 0.031
    assertThat(Stats.signTestRank(6)).isEqualTo(1); // 0.0156
    assertThat(Stats.signTestRank(2_000)).isEqualTo(956); // no underflow: 0.5^2000 is below a double's range
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
