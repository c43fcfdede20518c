package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerdictTest {
  private static final PairRunner.Pair PAIR_1 = pair("1 adapter overhead", Library.HC5, Variant.RAW_POOLED);

  @Test
  void tenForksDecideByTheirIntervalWhichLiesShortOfTheTarget() {
    String verdict = result(PAIR_1, forks(0.96, 1.00, 0.93, 0.94, 0.93, 0.84, 0.90, 0.77, 0.88, 0.96)).targetVerdict();

    assertThat(verdict).startsWith("thr >= 0.97: MISSED (forks' median 0.93, 95% CI 0.84-0.96 over 10 forks;"
        + " rounds' median 0.90, CI 0.90-0.90)");
    assertThat(verdict).endsWith("p99 <= 1.05: met (forks' median 1.00, 95% CI 1.00-1.00 over 10 forks;"
        + " rounds' median 1.00, CI 1.00-1.00)");
  }

  @Test
  void anIntervalOverForksThatHoldsTheTargetIsUnresolved() {
    assertThat(result(PAIR_1, forks(0.95, 0.96, 0.98, 0.99, 0.99, 1.00, 0.94, 1.01, 0.98, 0.97)).targetVerdict())
        .startsWith("thr >= 0.97: unresolved (forks' median 0.98, 95% CI 0.95-1.00 over 10 forks;");
  }

  @Test
  void theForksDecideEvenWhereTheRoundsMedianSaysOtherwise() {
    // The rounds' median is 0.90 (the legs below), every fork's 0.98 or more.
    assertThat(result(PAIR_1, forks(0.98, 0.99, 1.00, 0.98, 0.99, 1.00, 0.98, 0.99)).targetVerdict())
        .startsWith("thr >= 0.97: met (forks' median 0.99, 95% CI 0.98-1.00 over 8 forks; rounds' median 0.90");
  }

  @Test
  void fewerThanSixForksLeaveTheVerdictToTheRoundsAndSaySo() {
    assertThat(result(PAIR_1, forks(0.97, 0.88, 0.92)).targetVerdict())
        .startsWith("thr >= 0.97: MISSED by the rounds' median (0.90, 95% CI 0.90-0.90 over rounds;"
            + " forks' medians 0.88-0.97, too few forks for a 95% interval)");
  }

  @Test
  void oneJvmGivesTheRoundsAlone() {
    assertThat(result(PAIR_1, List.of()).targetVerdict())
        .startsWith("thr >= 0.97: MISSED by the rounds' median (0.90, 95% CI 0.90-0.90 over rounds)");
  }

  @Test
  void issue19sTargetsStandBesideTheIssuesTheyTighten() {
    List<double[]> none = List.of();
    assertThat(result(pair("1 adapter overhead", Library.OKHTTP, Variant.RAW_POOLED), none).targetVerdict())
        .contains("; issue 19: thr >= 0.99: MISSED").contains("; issue 19: p99 <= 1.03: met");
    assertThat(result(pair("1 adapter overhead", Library.HC5_ASYNC, Variant.RAW_POOLED), none).targetVerdict())
        .doesNotContain("issue 19: thr").contains("; issue 19: p99 <= 1.03: met");
    assertThat(result(pair("2 server close vs Connection: close", Library.REACTOR_NETTY,
        Variant.RAW_CONNECTION_CLOSE), none).targetVerdict())
        .startsWith("thr >= 0.90: met").contains("; issue 19: thr >= 0.97: MISSED");
    assertThat(result(pair("3 reset vs naive", Library.HC5, Variant.NAIVE_SHARED), none).targetVerdict())
        .contains("; issue 19: thr >= 0.99: MISSED");
    assertThat(result(pair("3 reset vs naive", Library.HC5, Variant.NAIVE_NEW_CLIENT), none).targetVerdict())
        .doesNotContain("issue 19");
    assertThat(result(PAIR_1, none).targetVerdict()).doesNotContain("issue 19");
  }

  private static PairRunner.Pair pair(String scenario, Library library, Variant b) {
    return Benchmarks.pairs().stream()
        .filter(p -> p.scenario().equals(scenario) && p.library() == library && p.b() == b)
        .findFirst().orElseThrow();
  }

  /** Forks whose median throughput ratios are {@code medians}, each with a p99 ratio of 1. */
  private static List<double[]> forks(double... medians) {
    List<double[]> forks = new ArrayList<>();
    for (double m : medians) {
      forks.add(new double[] {m, 1.0});
    }
    return forks;
  }

  /** 12 rounds in which A runs at 0.9 of B's throughput with B's p99. */
  private static PairRunner.Result result(PairRunner.Pair pair, List<double[]> forks) {
    List<PairRunner.Leg> a = new ArrayList<>();
    List<PairRunner.Leg> b = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      a.add(new PairRunner.Leg(900, 0, null, 1_000_000_000L, 0.1, 0.5, 1_000_000L, 1));
      b.add(new PairRunner.Leg(1_000, 0, null, 1_000_000_000L, 0.1, 0.5, 1_000_000L, 1));
    }
    return PairRunner.Result.of(pair, a, b, new int[4], false, new Histogram(), new Histogram(), forks);
  }
}
