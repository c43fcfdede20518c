package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Load and leaks, written once and run by every adapter: {@value #REQUESTS} requests at
 * concurrency {@value #CONCURRENCY} against a fast raw peer on loopback ({@link RawHttpPeer} in
 * {@code KEEP_ALIVE} mode: it honours {@code Connection: close}), for server close, reset and
 * pooled keep-alive. Zero errors and zero client TIME_WAIT in the kernel's table; then, after the
 * client's close(), the process's open file
 * descriptors and live threads return to their baseline within {@link #SETTLE}. A run that takes
 * longer than {@link #RUN_BOUND} fails (it does not pass on fewer requests).
 *
 * <p>The baseline is taken after a warm-up run with the same strategy (closed), so that classes,
 * jar files and lazily started JVM threads are already there. Tolerances: file descriptors may end
 * up to {@link #FD_TOLERANCE} above the baseline (a class loaded only on a rare path can open a
 * jar); threads must all be gone except JVM-internal ones ({@link Leaks#newThreads}).
 *
 * <p>A JUnit test class: JUnit makes an instance per test method and runs it on one thread.
 * {@link Isolated}: it compares the whole process's descriptors and threads, which tests running
 * beside it under JUnit's parallel execution would change.
 */
@Isolated
public abstract class LoadContract {
  /**
   * Requests per run: 50,000. More than three times the ports connect() can use towards one
   * destination in 60 s on Linux's default range (it takes even ports: ~14,100 of 28,232), so a
   * client that kept TIME_WAIT would run out of ports within the run. (100,000 until session 35,
   * which halved it to keep CI under 30 minutes: the proof is the same.)
   */
  protected static final int REQUESTS = 50_000;
  /** Requests in flight at once. */
  protected static final int CONCURRENCY = 64;
  /**
   * Bounds one run. The run proves correctness under load, not speed: 100,000 requests took 35 s
   * on a quiet 2-core machine and up to 100 s with both cores busy elsewhere (measured), so the
   * bound leaves room for a loaded CI machine and still ends a stuck run.
   */
  protected static final Duration RUN_BOUND = Duration.ofSeconds(240);
  /** How long the kernel gets to finish the closes after the client is closed. */
  protected static final Duration SETTLE = Duration.ofSeconds(15);
  /** File descriptors a run may leave open above its baseline (a class loaded on a rare path opens a jar). */
  protected static final int FD_TOLERANCE = 2;
  private static final int WARM_UP = 2_000;
  private static final Logger log = LoggerFactory.getLogger(LoadContract.class);

  /**
   * A client configured by the adapter with {@code strategy}, counting into {@code accounting},
   * with {@code timeout} as its connect and response timeouts.
   *
   * @param strategy the strategy under test
   * @param accounting where the client counts how its connections end
   * @param timeout the connect and response timeout
   * @return a new client
   * @throws Exception if the client cannot be made
   */
  protected abstract FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting,
      Duration timeout) throws Exception;

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(),
        PooledKeepAlive.builder().maxTotal(CONCURRENCY).maxPerRoute(CONCURRENCY).build());
  }

  @BeforeEach
  void needsProc() {
    KernelTcp.assumeReadable();
  }

  /** Result of one bounded run. */
  private record Run(int completed, int errors, List<String> firstErrors, long millis) {}

  private static Run load(FaultClient client, URI uri, int requests) throws InterruptedException {
    ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY, r -> {
      Thread t = new Thread(r, "load-contract-worker");
      t.setDaemon(true);
      return t;
    });
    AtomicInteger next = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    List<String> firstErrors = Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    long deadline = start + RUN_BOUND.toNanos();
    for (int w = 0; w < CONCURRENCY; w++) {
      workers.execute(() -> {
        while (next.getAndIncrement() < requests && deadline - System.nanoTime() > 0) {
          try {
            int status = client.get(uri);
            if (status == 200) {
              completed.incrementAndGet();
            } else {
              errors.incrementAndGet();
              if (firstErrors.size() < 5) {
                firstErrors.add("status " + status);
              }
            }
          } catch (Exception e) {
            errors.incrementAndGet();
            if (firstErrors.size() < 5) {
              firstErrors.add(e.toString());
            }
          }
        }
      });
    }
    workers.shutdown();
    boolean ended = workers.awaitTermination(RUN_BOUND.toSeconds() + 60, TimeUnit.SECONDS);
    if (!ended) {
      workers.shutdownNow();
    }
    assertThat(ended).as("the load run's workers ended").isTrue();
    return new Run(completed.get(), errors.get(), firstErrors,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /**
   * Name prefixes of threads that the client library shares across all its clients in the process
   * and that end by themselves after idling (e.g. OkHttp's TaskRunner, whose threads end 60 s after
   * they idle): they may still be there, idle (not RUNNABLE), after close(). Empty by default; an
   * adapter that declares one says why in its javadoc.
   *
   * @return the prefixes, none by default
   */
  protected List<String> sharedIdleThreadPrefixes() {
    return List.of();
  }

  private List<String> leftThreads(Set<Thread> baseline) {
    List<String> left = new ArrayList<>();
    for (String t : Leaks.newThreads(baseline)) {
      boolean sharedIdle = sharedIdleThreadPrefixes().stream().anyMatch(t::startsWith)
          && !t.endsWith("(RUNNABLE)");
      if (!sharedIdle) {
        left.add(t);
      }
    }
    return left;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void manyRequestsAtHighConcurrencyFailNoneAndLeaveNoFdOrThreadBehind(CloseStrategy strategy)
      throws Exception {
    RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE);
    Set<Thread> baselineThreads;
    int baselineFds;
    CloseAccounting accounting = new CloseAccounting();
    try (peer) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/load");
      try (FaultClient warm = newClient(strategy, new CloseAccounting(), Duration.ofSeconds(30))) {
        Run warmUp = load(warm, uri, WARM_UP);
        assertThat(warmUp.errors()).as("warm-up errors: %s", warmUp.firstErrors()).isZero();
      }
      Leaks.await(() -> false, Duration.ofMillis(500)); // let the warm-up's workers end
      baselineThreads = Leaks.liveThreads();
      baselineFds = Leaks.openFds();

      FaultClient client = newClient(strategy, accounting, Duration.ofSeconds(30));
      Run run;
      try {
        run = load(client, uri, REQUESTS);
      } finally {
        client.close();
      }
      log.debug("{} requests at concurrency {} with {}: {} ms ({} req/s), {} errors, {}", REQUESTS,
          CONCURRENCY, strategy.name(), run.millis(), run.completed() * 1000L / Math.max(1, run.millis()),
          run.errors(), accounting.snapshot());
      assertThat(run.errors()).as("errors, first ones: %s", run.firstErrors()).isZero();
      assertThat(run.completed()).as("requests done within %s (too slow: this fails, it does not pass"
          + " on fewer)", RUN_BOUND).isEqualTo(REQUESTS);
      Leaks.await(() -> accounting.snapshot().open() == 0 && Leaks.liveClientSockets(peer.port()) == 0,
          SETTLE);
      assertThat(accounting.snapshot().open()).as("%s", accounting.snapshot()).isZero();
      assertThat(Leaks.liveClientSockets(peer.port())).as(KernelTcp.describe(peer.port())).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      int clientTimeWait = KernelTcp.clientTimeWait(peer.port());
      log.debug("kernel after {} connections: client TIME_WAIT {}, server TIME_WAIT {}",
          accounting.snapshot().connectionsOpened(), clientTimeWait, KernelTcp.serverTimeWait(peer.port()));
      assertThat(clientTimeWait).as("client TIME_WAIT in the kernel's table: %s",
          KernelTcp.describe(peer.port())).isZero();
    }
    // The peer is closed too (its threads and sockets end): what is left is the client's.
    boolean settled = Leaks.await(() -> leftThreads(baselineThreads).isEmpty()
        && Leaks.openFds() <= baselineFds + FD_TOLERANCE, SETTLE);
    int fds = Leaks.openFds();
    List<String> threads = leftThreads(baselineThreads);
    log.debug("after close(): fds {} (baseline {}), threads left {} (shared idle ones allowed: {})",
        fds, baselineFds, threads, Leaks.newThreads(baselineThreads));
    assertThat(threads).as("threads left after close()").isEmpty();
    assertThat(fds).as("open fds after close(), baseline %d", baselineFds)
        .isLessThanOrEqualTo(baselineFds + FD_TOLERANCE);
    assertThat(settled).isTrue();
  }
}
