package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The load CLI's stderr progress: the baseline line, the progress line, and its bounded rate. */
class LoadProgressTest {

  @Test
  void aProgressLineSaysRequestsErrorsRateAndTimeWaitAddedSinceTheBaseline() {
    assertThat(LoadProgress.line(Duration.ofMillis(3200), 1234, 2, 411.4, 1300, 100))
        .isEqualTo("[   3 s]    1234 requests, 2 errors,   411 req/s, client TIME_WAIT 1300 (+1200)");
    // Entries from before the run can expire during it: the change may be negative, and says so.
    assertThat(LoadProgress.line(Duration.ofSeconds(61), 10, 0, 0, 5, 40)).endsWith("client TIME_WAIT 5 (-35)");
    assertThat(LoadProgress.line(Duration.ofSeconds(1), 10, 0, 10, null, null)).endsWith("10 req/s");
  }

  @Test
  void theBaselineLineNamesBothSidesWhenTheServerIsLocal() {
    StringWriter err = new StringWriter();
    LoadProgress.to(new PrintWriter(err)).baseline(12, 3);
    LoadProgress.to(new PrintWriter(err)).baseline(7, null);
    LoadProgress.to(new PrintWriter(err)).baseline(null, null);
    assertThat(err.toString().split("\\R")).containsExactly(
        "TIME_WAIT before the run: client 12, server 3 (kernel table)",
        "TIME_WAIT before the run: client 7 (kernel table)");
  }

  @Test
  void progressComesAtMostOncePerIntervalAndStopsWithTheTicker() throws Exception {
    StringWriter err = new StringWriter();
    AtomicLong done = new AtomicLong();
    LoadProgress progress = LoadProgress.to(new PrintWriter(err), Duration.ofMillis(100));
    long start = System.nanoTime();
    LoadProgress.Ticker ticker = progress.start(done::get, () -> 0, () -> 4, 1);
    for (int i = 0; i < 50; i++) {
      done.addAndGet(10);
      Thread.sleep(10);
    }
    ticker.close();
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    String printed = err.toString();
    long lines = printed.lines().count();
    // 500 ms or more at one line per 100 ms at most: never one per request, nor a catch-up burst.
    assertThat(lines).as(printed).isBetween(1L, elapsedMs / 100 + 1);
    assertThat(printed).contains("client TIME_WAIT 4 (+3)");
    Thread.sleep(250);
    assertThat(err.toString().lines().count()).as("nothing after close").isEqualTo(lines);
  }

  @Test
  void offPrintsNothing() {
    assertThat(LoadProgress.OFF.enabled()).isFalse();
    LoadProgress.OFF.baseline(1, 2);
    LoadProgress.OFF.start(() -> 0, () -> 0, null, null).close();
    assertThatThrownBy(() -> LoadProgress.to(new PrintWriter(new StringWriter()), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
