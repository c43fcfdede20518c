package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerdictTest {
  private static final PairRunner.Pair PAIR_1 = Benchmarks.pairs().stream()
      .filter(p -> p.scenario().equals("1 adapter overhead") && p.library() == BenchClient.Library.HC5)
      .findFirst().orElseThrow();

  @Test
  void tenForksGiveTheMediansIntervalOverTheForksBesideTheOneOverRounds() {
    List<double[]> forks = new ArrayList<>();
    double[] medians = {0.96, 1.00, 0.93, 0.94, 0.93, 0.84, 0.90, 0.77, 0.88, 0.96};
    for (double m : medians) {
      forks.add(new double[] {m, 1.0});
    }

    String verdict = result(forks).targetVerdict();

    assertThat(verdict).startsWith("thr >= 0.97: MISSED (95% CI 0.90-0.90 over rounds, 0.84-0.96 over 10 forks)");
    assertThat(verdict).endsWith("p99 <= 1.05: met (95% CI 1.00-1.00 over rounds, 1.00-1.00 over 10 forks)");
  }

  @Test
  void fewerThanSixForksAreNamedTooFewForAnInterval() {
    List<double[]> forks = List.of(new double[] {0.97, 1.0}, new double[] {0.88, 1.1}, new double[] {0.92, 1.2});

    assertThat(result(forks).targetVerdict())
        .contains("over rounds; forks' medians 0.88-0.97, too few forks for a 95% interval");
  }

  @Test
  void oneJvmGivesTheIntervalOverRoundsAlone() {
    assertThat(result(List.of()).targetVerdict()).startsWith("thr >= 0.97: MISSED (95% CI 0.90-0.90)");
  }

  /** 12 rounds in which A runs at 0.9 of B's throughput with B's p99. */
  private static PairRunner.Result result(List<double[]> forks) {
    List<PairRunner.Leg> a = new ArrayList<>();
    List<PairRunner.Leg> b = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      a.add(new PairRunner.Leg(900, 0, null, 1_000_000_000L, 0.1, 0.5, 1_000_000L, 1));
      b.add(new PairRunner.Leg(1_000, 0, null, 1_000_000_000L, 0.1, 0.5, 1_000_000L, 1));
    }
    return PairRunner.Result.of(PAIR_1, a, b, new int[4], false, new Histogram(), new Histogram(), forks);
  }
}
