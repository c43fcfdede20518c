package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The load report's time series: bounded, exact rates after thinning, sampled off the request path. */
class LoadTimelineTest {

  static LoadTimeline.Sample at(long seconds, long requests, Double p99) {
    return new LoadTimeline.Sample(seconds * 1000, requests, 0, p99, (int) seconds, null);
  }

  @Test
  void aFullTimelineDropsEveryOtherSampleButTheStartAndStaysBounded() {
    LoadTimeline timeline = new LoadTimeline(5);
    for (int s = 0; s <= 20; s++) {
      timeline.add(at(s, 100L * s, s == 3 ? 50.0 : 1.0));
      assertThat(timeline.samples()).hasSizeLessThanOrEqualTo(5);
    }
    List<LoadTimeline.Sample> kept = timeline.samples();
    assertThat(kept.get(0).elapsedMs()).as("the start stays").isZero();
    assertThat(kept.get(kept.size() - 1).elapsedMs()).as("the newest stays").isEqualTo(20_000);
    // Cumulative counts: the rate between any two kept samples is still exactly 100 per second.
    for (int i = 1; i < kept.size(); i++) {
      LoadTimeline.Sample a = kept.get(i - 1);
      LoadTimeline.Sample b = kept.get(i);
      assertThat((b.requests() - a.requests()) * 1000.0 / (b.elapsedMs() - a.elapsedMs())).isEqualTo(100.0);
    }
  }

  @Test
  void aKeptSampleTakesTheLargerP99OfTheTwoItStandsFor() {
    LoadTimeline timeline = new LoadTimeline(5);
    timeline.add(at(0, 0, null));
    timeline.add(at(1, 1, 50.0));
    timeline.add(at(2, 2, 1.0));
    timeline.add(at(3, 3, null));
    timeline.add(at(4, 4, 2.0));
    timeline.add(at(5, 5, 3.0));
    // Full at 5: samples 0, 2 (with 1's p99), 4 (with 3's, none), then 5.
    assertThat(timeline.samples()).extracting(LoadTimeline.Sample::elapsedMs).containsExactly(0L, 2000L, 4000L, 5000L);
    assertThat(timeline.samples()).extracting(LoadTimeline.Sample::p99Ms).containsExactly(null, 50.0, 2.0, 3.0);
  }

  @Test
  void capacityBelowThreeIsRefused() {
    assertThatThrownBy(() -> new LoadTimeline(2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity must be >= 3, but was 2");
    assertThat(LoadTimeline.MAX_SAMPLES).isEqualTo(2048);
  }

  @Test
  void theSamplerTakesTheStartATickPerIntervalAndTheEnd() throws Exception {
    LoadTimeline timeline = new LoadTimeline();
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Latencies latencies = new Latencies(1000);
    AtomicInteger timeWait = new AtomicInteger(7);
    LoadTimeline.Sampler sampler = new LoadTimeline.Sampler(timeline, succeeded, failed, latencies,
        timeWait::get, null, Duration.ofMillis(100));
    for (int i = 0; i < 30; i++) {
      // As the engine does: take a slot, then write it.
      latencies.record(succeeded.getAndIncrement(), (i + 1) * 1_000_000L);
      if (i % 10 == 0) {
        failed.incrementAndGet();
      }
      timeWait.incrementAndGet();
      Thread.sleep(10);
    }
    sampler.close();
    int taken = timeline.samples().size();
    Thread.sleep(250);

    List<LoadTimeline.Sample> samples = timeline.samples();
    assertThat(samples).as("nothing after close").hasSize(taken);
    assertThat(samples.size()).as("start, about one per 100 ms, end").isBetween(3, 8);
    assertThat(samples.get(0).requests()).isZero();
    assertThat(samples.get(0).clientTimeWait()).isEqualTo(7);
    LoadTimeline.Sample last = samples.get(samples.size() - 1);
    assertThat(last.requests()).isEqualTo(33);
    assertThat(last.errors()).isEqualTo(3);
    assertThat(last.clientTimeWait()).isEqualTo(37);
    assertThat(last.serverTimeWait()).isNull();
    // Every window's p99 lies within the latencies recorded (1 to 30 ms), and grows with them.
    List<Double> p99s = samples.stream().map(LoadTimeline.Sample::p99Ms).filter(p -> p != null).toList();
    assertThat(p99s).isNotEmpty().allSatisfy(p -> assertThat(p).isBetween(1.0, 30.0)).isSorted();
  }

  @Test
  void aWindowPercentileSkipsSlotsNotYetWrittenAndIsNullWhenEmpty() {
    Latencies latencies = new Latencies(10);
    for (int i = 0; i < 4; i++) {
      latencies.record(i, (i + 1) * 1_000_000L);
    }
    assertThat(latencies.windowPercentileMs(0, 4, 99)).isEqualTo(4.0);
    assertThat(latencies.windowPercentileMs(2, 6, 99)).as("slots 4 and 5 unwritten").isEqualTo(4.0);
    assertThat(latencies.windowPercentileMs(2, 6, 50)).isEqualTo(3.0);
    assertThat(latencies.windowPercentileMs(4, 4, 99)).isNull();
    assertThat(latencies.windowPercentileMs(5, 10, 99)).isNull();
    assertThatThrownBy(() -> latencies.windowPercentileMs(3, 11, 99)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("window must be 0 <= from <= to <= 10, but was 3-11");
  }
}
