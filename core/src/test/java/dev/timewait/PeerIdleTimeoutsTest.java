package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeerIdleTimeoutsTest {
  private static final InetSocketAddress LB = new InetSocketAddress("127.0.0.1", 8443);
  private static final InetSocketAddress OTHER = new InetSocketAddress("127.0.0.1", 9443);

  @Test
  void theShortestIdleTimeAfterWhichThePeerClosedIsKeptPerDestination() {
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    timeouts.observeClosedAfterIdle(LB, TimeUnit.MILLISECONDS.toNanos(2400));
    timeouts.observeClosedAfterIdle(LB, TimeUnit.MILLISECONDS.toNanos(1200));
    timeouts.observeClosedAfterIdle(LB, TimeUnit.MILLISECONDS.toNanos(3000));
    assertThat(timeouts.learned()).containsOnlyKeys(LB).containsEntry(LB, Duration.ofMillis(1200));
    assertThat(timeouts.retireAfterIdleNanos(OTHER)).isEqualTo(-1);
    assertThat(timeouts.retireAfterIdle(OTHER)).isEmpty();
  }

  @Test
  void connectionsRetireAFifthBeforeTheLearnedTimeButNeverMoreThanASecondBefore() {
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    timeouts.observeClosedAfterIdle(LB, TimeUnit.SECONDS.toNanos(1));
    timeouts.observeClosedAfterIdle(OTHER, TimeUnit.SECONDS.toNanos(60));
    assertThat(timeouts.retireAfterIdle(LB)).contains(Duration.ofMillis(800));
    assertThat(timeouts.retireAfterIdle(OTHER)).contains(Duration.ofSeconds(59));
  }

  @Test
  void closesSoonerThanTheFloorAreTheServerEndingTheExchangeAndTeachNothing() {
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    timeouts.observeClosedAfterIdle(LB, PeerIdleTimeouts.MIN_LEARNED.toNanos() - 1);
    assertThat(timeouts.learned()).isEmpty();
    timeouts.observeClosedAfterIdle(LB, PeerIdleTimeouts.MIN_LEARNED.toNanos() + 1);
    assertThat(timeouts.retireAfterIdleNanos(LB)).isEqualTo(PeerIdleTimeouts.MIN_LEARNED.toNanos());
  }

  @Test
  void atMostAThousandAndTwentyFourDestinationsAreRememberedTheLatestLearned() {
    // A client that calls thousands of hosts (webhooks) fills the table: a load balancer learned
    // afterwards takes the place of the destination learned first. Before, the first 1,024 stayed
    // for the client's life and nothing met later was learned.
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    for (int port = 1; port <= PeerIdleTimeouts.MAX_DESTINATIONS + 10; port++) {
      timeouts.observeClosedAfterIdle(new InetSocketAddress("127.0.0.1", port), TimeUnit.SECONDS.toNanos(5));
    }
    assertThat(timeouts.learned()).hasSize(PeerIdleTimeouts.MAX_DESTINATIONS);
    InetSocketAddress balancer = new InetSocketAddress("10.0.0.7", 443);
    timeouts.observeClosedAfterIdle(balancer, TimeUnit.SECONDS.toNanos(60));
    assertThat(timeouts.retireAfterIdle(balancer)).isPresent();
    assertThat(timeouts.learned()).hasSize(PeerIdleTimeouts.MAX_DESTINATIONS)
        .doesNotContainKey(new InetSocketAddress("127.0.0.1", 11))
        .containsKey(new InetSocketAddress("127.0.0.1", 12));
    // A destination learned again tightens its entry, and is kept while one-off hosts come and go.
    timeouts.observeClosedAfterIdle(balancer, TimeUnit.SECONDS.toNanos(30));
    assertThat(timeouts.learned()).hasSize(PeerIdleTimeouts.MAX_DESTINATIONS)
        .containsEntry(balancer, java.time.Duration.ofSeconds(30));
  }

  @Test
  void aDestinationSeenAgainIsKeptWhileOneOffHostsComeAndGo() {
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    InetSocketAddress balancer = new InetSocketAddress("10.0.0.7", 443);
    timeouts.observeClosedAfterIdle(balancer, TimeUnit.SECONDS.toNanos(60)); // learned first
    for (int i = 0; i < PeerIdleTimeouts.MAX_DESTINATIONS - 1; i++) {
      timeouts.observeClosedAfterIdle(new InetSocketAddress("127.0.0.2", 20_000 + i), TimeUnit.SECONDS.toNanos(5));
    }
    timeouts.observeClosedAfterIdle(balancer, TimeUnit.SECONDS.toNanos(60)); // seen again, the table full
    timeouts.observeClosedAfterIdle(new InetSocketAddress("127.0.0.3", 443), TimeUnit.SECONDS.toNanos(5));
    assertThat(timeouts.learned()).as("the host seen least recently made room")
        .hasSize(PeerIdleTimeouts.MAX_DESTINATIONS).containsKey(balancer)
        .doesNotContainKey(new InetSocketAddress("127.0.0.2", 20_000));
  }

  /**
   * Observations of one destination from many threads at once (its pooled connections all closed
   * by the peer's idle timeout) leave it once in the order: a copy left behind would evict it,
   * though just observed again, when the table is full and a new destination comes.
   */
  @Test
  void concurrentObservationsOfOneDestinationLeaveNoCopyToEvictItLater() throws Exception {
    PeerIdleTimeouts timeouts = new PeerIdleTimeouts();
    int threads = 8;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          start.await(5, TimeUnit.SECONDS);
          for (int i = 0; i < 20_000; i++) {
            timeouts.observeClosedAfterIdle(LB, TimeUnit.SECONDS.toNanos(2));
          }
          return null;
        }));
      }
      start.countDown();
      for (java.util.concurrent.Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    for (int i = 1; i < PeerIdleTimeouts.MAX_DESTINATIONS; i++) {
      timeouts.observeClosedAfterIdle(new InetSocketAddress("10.0.0." + (i % 250 + 1), 10_000 + i),
          TimeUnit.SECONDS.toNanos(2));
    }
    timeouts.observeClosedAfterIdle(LB, TimeUnit.SECONDS.toNanos(2)); // the most recent now
    timeouts.observeClosedAfterIdle(OTHER, TimeUnit.SECONDS.toNanos(2)); // a new one: one must go
    assertThat(timeouts.learned()).hasSize(PeerIdleTimeouts.MAX_DESTINATIONS).containsKeys(LB, OTHER);
  }

  @Test
  void aNullDestinationIsRejectedByName() {
    assertThatThrownBy(() -> new PeerIdleTimeouts().observeClosedAfterIdle(null, 1))
        .isInstanceOf(NullPointerException.class).hasMessage("remote cannot be null");
  }
}
