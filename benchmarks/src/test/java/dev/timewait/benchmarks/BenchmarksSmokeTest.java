package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A smoke pass: every scenario runs with a tiny count and produces its ratios. No timing is
 * asserted: the figures come from the harness, on a quiet machine, not from CI.
 */
class BenchmarksSmokeTest {
  @Test
  void everyScenarioCompletesAndProducesRatios() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Benchmarks.Report report;
    try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      report = Benchmarks.run(PairRunner.Settings.smoke(), null, true, true, ps);
    }
    assertThat(report.pairs()).hasSize(Benchmarks.pairs().size());
    for (PairRunner.Result r : report.pairs()) {
      assertThat(r.legsA()).as(r.pair().label()).isNotEmpty();
      assertThat(r.errors()).as(r.pair().label() + ": " + log).isZero();
      assertThat(r.throughputRatio().median()).as(r.pair().label()).isPositive().isFinite();
      assertThat(r.p99Ratio().median()).as(r.pair().label()).isPositive().isFinite();
    }
    assertThat(report.costs()).hasSize(java.util.Arrays.stream(BenchClient.Library.values())
            .mapToInt(l -> Benchmarks.costPairs(l).size()).sum())
        .allSatisfy(c -> assertThat(c.errors()).isZero());
    assertThat(report.perRequest()).isNotEmpty().allSatisfy(a -> assertThat(a.errors()).isZero());
    assertThat(report.perRead()).hasSize(Allocation.SOCKET_KINDS.length * 2);
    assertThat(report.socketCalls()).hasSize(1);
    assertThat(report.paced()).hasSize(BenchClient.Library.values().length + 1).allSatisfy(p -> {
      assertThat(p.errors()).as(p.library().label + ": " + p.firstError()).isZero();
      assertThat(java.util.Arrays.stream(p.firstA()).allMatch(ms -> ms > 0 && Double.isFinite(ms))).isTrue();
      assertThat(p.firstDifference().median()).isFinite();
    });
    assertThat(Benchmarks.markdown(report)).contains("| 1 adapter overhead | hc5 |", "| 7 the reuse check | okhttp |");
  }

  @Test
  void aPairRunsInFreshJvmsAndTheirRoundsAreJoined() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PairRunner.Result result;
    try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      result = Forks.run(0, Benchmarks.pairs().get(0), PairRunner.Settings.smoke(), 2, ps);
    }
    assertThat(result.legsA()).as(log.toString()).hasSize(2).hasSameSizeAs(result.legsB());
    assertThat(result.forkThroughputRatios()).hasSize(2);
    assertThat(result.errors()).isZero();
    assertThat(result.pooledP99Ratio()).isPositive().isFinite();
    assertThat(log.toString()).contains("fork 1 of 2", "fork 2 of 2");
  }
}
