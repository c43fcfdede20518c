package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A close from another thread racing connect(), as a cancel does: the close lands before the
 * SYN, during the handshake, just after the kernel completed it, or after connect() returned.
 * Whatever the timing, a connection that existed in the kernel closes the strategy's way (no
 * TIME_WAIT on the client, counted in the kernel's table), and the accounting counts it exactly
 * once: opened and closed, or neither.
 */
class ConnectCloseRaceTest {
  private static final int ATTEMPTS = 2_500;
  private static final int THREADS = 8;
  /** Spread of the close after the connect starts; a loopback handshake takes tens of µs. */
  private static final long MAX_CLOSE_DELAY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
  private static final Duration RUN_BOUND = Duration.ofSeconds(90);
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.reset(), CloseStrategy.serverClose());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void aCloseRacingConnectLeavesNoClientTimeWaitAndNothingOpen(CloseStrategy strategy)
      throws Exception {
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(strategy);
    AtomicInteger connected = new AtomicInteger();
    AtomicInteger attempts = new AtomicInteger();
    // The peer reads until the client goes away and only then closes: a client FIN would leave
    // TIME_WAIT on the client, a client RST leaves none.
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE)) {
      InetSocketAddress target = new InetSocketAddress("127.0.0.1", peer.port());
      ExecutorService connectors = Executors.newFixedThreadPool(THREADS);
      ExecutorService closers = Executors.newFixedThreadPool(THREADS);
      long deadline = System.nanoTime() + RUN_BOUND.toNanos();
      try {
        List<Future<?>> runs = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          runs.add(connectors.submit(() -> {
            while (attempts.incrementAndGet() <= ATTEMPTS && System.nanoTime() < deadline) {
              if (race(factory, closers, target)) {
                connected.incrementAndGet();
              }
            }
            return null;
          }));
        }
        for (Future<?> run : runs) {
          run.get(RUN_BOUND.toMillis() + 10_000, TimeUnit.MILLISECONDS);
        }
      } finally {
        connectors.shutdownNow();
        closers.shutdown();
        assertThat(closers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      }

      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      CloseStats stats = factory.accounting().snapshot();
      String seen = stats + ", connect() returned " + connected + " times; kernel: "
          + KernelTcp.describe(peer.port());
      // The race ran both ways: some connects won, and the peer accepted connections.
      assertThat(connected.get()).as(seen).isPositive();
      assertThat(peer.accepted()).as(seen).isPositive();
      assertThat(KernelTcp.clientTimeWait(peer.port())).as(seen).isZero();
      assertThat(stats.open()).as(seen).isZero();
      assertThat(factory.openConnections()).as(seen).isZero();
      assertThat(stats.closedLocallyFirst()).as(seen).isZero();
      assertThat(stats.closedByReset()).as(seen).isEqualTo(stats.connectionsOpened());
    }
  }

  /**
   * One connect, closed from a closer thread 0-200 µs after the connect starts (never before the
   * socket exists: the close task is handed over first). Returns whether connect() returned.
   */
  private static boolean race(TimeWaitSocketFactory factory, ExecutorService closers,
      InetSocketAddress target) throws Exception {
    Socket socket = factory.createSocket();
    long delay = ThreadLocalRandom.current().nextLong(MAX_CLOSE_DELAY_NANOS);
    Future<?> close = closers.submit(() -> {
      long until = System.nanoTime() + delay;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      socket.close();
      return null;
    });
    boolean returned;
    try {
      socket.connect(target, 5_000);
      returned = true;
    } catch (IOException closedUnderIt) {
      returned = false;
    }
    close.get(10, TimeUnit.SECONDS);
    return returned;
  }
}
