package dev.timewait.examples;

import dev.timewait.CloseStats;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The load engine behind both {@code load} and {@code demo}: sends GETs or POSTs to one URL with
 * one client at a fixed concurrency, paced as the spec says (as fast as the workers go, at a rate,
 * or in bursts with idle gaps), bounded by a request count and optionally a duration, then closes
 * the client and counts TIME_WAIT from the kernel's table, on the client's side towards the target
 * and, for a target on this host, on the server's side.
 *
 * <pre>{@code
 * LoadResult result = LoadEngine.run(spec);
 * System.out.print(result.summary());
 * }</pre>
 *
 * <p>Thread-safe: runs share nothing.
 */
public final class LoadEngine {
  /** The longest the engine waits, after closing the client, for closing sockets to settle. */
  public static final Duration SETTLE = Duration.ofSeconds(3);

  private LoadEngine() {}

  /** What the engine prints, before the path, once the client is built and it waits for the start signal. */
  public static final String READY = "load: ready, waiting for";
  /** The longest the engine waits for {@link LoadSpec#startSignal()}, in seconds. */
  public static final long MAX_START_WAIT_S = 600;
  /** How often the engine looks for the start signal. */
  private static final long SIGNAL_POLL_MS = 5;

  /** Runs the load {@code spec} describes and returns what it measured. Never throws for a failed request. */
  public static LoadResult run(LoadSpec spec) throws InterruptedException {
    return run(spec, LoadProgress.OFF, new PrintWriter(System.err, true));
  }

  /** {@link #run(LoadSpec)}, printing the TIME_WAIT baseline and progress through {@code progress}. */
  public static LoadResult run(LoadSpec spec, LoadProgress progress) throws InterruptedException {
    return run(spec, progress, new PrintWriter(System.err, true));
  }

  /**
   * Like {@link #run(LoadSpec, LoadProgress)}; with a start signal, says on {@code err} when it is
   * ready to start.
   *
   * @throws IllegalStateException when the start signal does not appear within {@link #MAX_START_WAIT_S}
   */
  public static LoadResult run(LoadSpec spec, LoadProgress progress, PrintWriter err)
      throws InterruptedException {
    return run(spec, progress, err, null);
  }

  /**
   * Like {@link #run(LoadSpec, LoadProgress, PrintWriter)}; with a {@code timeline}, samples the
   * run into it (once a second, on its own thread, see {@link LoadTimeline}); null for none.
   */
  public static LoadResult run(LoadSpec spec, LoadProgress progress, PrintWriter err, LoadTimeline timeline)
      throws InterruptedException {
    URI url = spec.url();
    Target target = Target.of(url);
    TcpTable table = TcpTable.system();
    boolean countable = table.isSupported() && !target.addresses.isEmpty();
    Latencies latencies = new Latencies(spec.requests());
    AtomicInteger tickets = new AtomicInteger();
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    // When the first failed request ended, and how many had succeeded by then: set once, by the
    // worker whose error became firstError (the load's own bound and the client's close come later).
    AtomicReference<FirstFailure> firstFailure = new AtomicReference<>();

    byte[] body = spec.method() == LoadSpec.Method.POST ? body(spec.bodySize()) : null;
    String method = spec.method().name();
    LoadSpec.Pacing pacing = spec.pacing();
    // One generator per worker, split in order from the seeded one here: the same seed gives every
    // worker the same gaps again, whatever the threads' timing.
    SplittableRandom seeded = new SplittableRandom(pacing.seed());
    List<SplittableRandom> gaps = new ArrayList<>();
    for (int w = 0; w < spec.concurrency(); w++) {
      gaps.add(seeded.split());
    }

    LoadClient client = LoadClient.open(spec);
    int warmupErrors;
    Long startWaitMs = null;
    Integer baselineClient = null;
    Integer baselineServer = null;
    try {
      // --warmup: sent one after another (on a thread of its own, bounded), before the baseline
      // and the signal; failures counted apart, never in the load's.
      warmupErrors = warmup(client, url, body, spec.warmup());
      // The baseline: TIME_WAIT an earlier run left towards the same target is not this run's, nor
      // the warm-up's (a naive warm-up closes first: settled, so that its last closes are in it).
      // Before the signal: other processes' loads begin at the signal.
      if (countable) {
        if (spec.warmup() > 0) {
          settle(table, target);
        }
        baselineClient = clientTimeWait(table, target);
        baselineServer = target.local ? serverTimeWait(table, target) : null;
      }
      progress.baseline(baselineClient, baselineServer);
      // --start-signal: the load (and its --duration and --rate clocks) begins once the file
      // exists, so that processes that started their JVMs one after another load together.
      if (spec.startSignal() != null) {
        long waitStart = System.nanoTime();
        awaitSignal(spec.startSignal(), err);
        startWaitMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - waitStart);
      }
    } catch (InterruptedException | RuntimeException e) {
      closeQuietly(client);
      throw e;
    }
    Integer clientTimeWaitBefore = baselineClient;
    Integer serverTimeWaitBefore = baselineServer;
    // The load's clocks (--duration, --rate) start here, once the client is built, warmed up and
    // the baseline taken: from before, that time made a rate's first tickets overdue, all sent at
    // once (a fresh JVM's first 8 requests at 20/s went out within 4-12 ms, not over 350 ms).
    long start = System.nanoTime();
    // No duration: a deadline no run reaches, yet near enough that the differences of nanoTime
    // values it is compared by cannot overflow (Long.MAX_VALUE did, where nanoTime is negative).
    long deadline = start + (spec.duration() == null ? Long.MAX_VALUE / 2 : spec.duration().toNanos());
    double nanosPerRequest = pacing.byRate() ? 1e9 / pacing.rate() : 0;
    CloseStats stats;
    long elapsed;
    ExecutorService workers = Executors.newFixedThreadPool(spec.concurrency(), daemonThreads());
    LoadProgress.Ticker ticker = progress.start(() -> (long) succeeded.get() + failed.get(), failed::get,
        countable ? () -> clientTimeWait(table, target) : null, clientTimeWaitBefore);
    LoadTimeline.Sampler sampler = timeline == null ? null : timeline.start(succeeded, failed, latencies,
        countable ? () -> clientTimeWait(table, target) : null,
        countable && target.local ? () -> serverTimeWait(table, target) : null, start);
    try {
      for (int w = 0; w < spec.concurrency(); w++) {
        SplittableRandom random = gaps.get(w);
        workers.execute(() -> {
          int inBurst = 0;
          int ticket;
          while (System.nanoTime() - deadline < 0 && (ticket = tickets.getAndIncrement()) < spec.requests()) {
            // Open loop: ticket i is due at start + i / rate, however long earlier requests took.
            if (pacing.byRate() && !sleepUntil(start + (long) (ticket * nanosPerRequest), deadline)) {
              break;
            }
            long t0 = System.nanoTime();
            String error;
            try {
              int status = client.send(url, body);
              error = status >= 200 && status < 400 ? null : "HTTP " + status + " from " + method + " " + redact(url);
            } catch (Exception e) {
              error = describe(e);
            } catch (Error e) {
              error = describe(e);
            }
            long latency = System.nanoTime() - t0;
            if (error == null) {
              latencies.record(succeeded.getAndIncrement(), latency);
            } else {
              failed.incrementAndGet();
              if (firstError.get() == null && firstError.compareAndSet(null, error)) {
                firstFailure.set(new FirstFailure(t0 + latency - start, succeeded.get()));
              }
            }
            if (pacing.byBursts() && ++inBurst == pacing.burst()) {
              inBurst = 0;
              // No gap after the last burst: the run would only idle.
              if (tickets.get() < spec.requests()) {
                long gapMs = pacing.gapMinMs() + random.nextLong(pacing.gapMaxMs() - pacing.gapMinMs() + 1);
                if (!sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(gapMs), deadline)) {
                  break;
                }
              }
            }
          }
        });
      }
      workers.shutdown();
      if (!workers.awaitTermination(loadBound(spec).toMillis(), TimeUnit.MILLISECONDS)) {
        workers.shutdownNow();
        firstError.compareAndSet(null, "the load did not finish within " + loadBound(spec).toSeconds() + " s");
        failed.incrementAndGet();
      }
      elapsed = System.nanoTime() - start;
    } finally {
      ticker.close();
      if (sampler != null) {
        sampler.close();
      }
      workers.shutdownNow();
      try {
        client.close();
      } catch (Exception e) {
        firstError.compareAndSet(null, "closing the client: " + describe(e));
        failed.incrementAndGet();
      }
    }
    stats = client.stats();

    Integer clientTimeWait = null;
    Integer serverTimeWait = null;
    if (countable) {
      settle(table, target);
      clientTimeWait = clientTimeWait(table, target);
      if (target.local) {
        serverTimeWait = serverTimeWait(table, target);
      }
    }

    int ok = succeeded.get();
    long requests = (long) ok + failed.get();
    FirstFailure first = firstFailure.get();
    long durationMs = TimeUnit.NANOSECONDS.toMillis(elapsed);
    double perSecond = elapsed <= 0 ? 0 : requests * 1e9 / elapsed;
    return new LoadResult(spec.client().label(), spec.kind().label(), requests, failed.get(), firstError.get(),
        durationMs, perSecond, latencies.percentileMs(ok, 50), latencies.percentileMs(ok, 99), stats,
        clientTimeWait, serverTimeWait, target.unresolvedHost, clientTimeWaitBefore, serverTimeWaitBefore,
        LoadResult.Settings.of(spec), startWaitMs, spec.warmup() == 0 ? null : warmupErrors,
        first == null ? null : TimeUnit.NANOSECONDS.toMillis(first.atNanos()),
        first == null ? null : first.succeeded());
  }

  /** The first failed request: its end, in ns since the load's start, and the requests that had succeeded by then. */
  private record FirstFailure(long atNanos, long succeeded) {}

  /** TIME_WAIT sockets towards the target's addresses and port. */
  private static int clientTimeWait(TcpTable table, Target target) {
    int n = 0;
    for (TcpFilter f : target.clientSide()) {
      n += table.count(f).timeWait();
    }
    return n;
  }

  /** TIME_WAIT sockets on the target's port on this host. */
  private static int serverTimeWait(TcpTable table, Target target) {
    return table.count(TcpFilter.localPort(target.port)).timeWait();
  }

  /**
   * The longest the load may take: the duration asked for (or, with none, every request taking its
   * full timeout in turn, per worker, plus the pacing's waits: the last request's due time at a
   * rate, or every idle gap at its longest), plus one request's timeout for the requests in flight.
   */
  static Duration loadBound(LoadSpec spec) {
    Duration perRequest = LoadClient.CALL_TIMEOUT.plusSeconds(5);
    if (spec.duration() != null) {
      return spec.duration().plus(perRequest);
    }
    long perWorker = (spec.requests() + spec.concurrency() - 1L) / spec.concurrency();
    Duration bound = perRequest.multipliedBy(perWorker + 1);
    LoadSpec.Pacing pacing = spec.pacing();
    if (pacing.byRate()) {
      bound = bound.plusMillis((long) Math.ceil(spec.requests() * 1000.0 / pacing.rate())); // in double: 3M requests * 1000 overflowed int
    } else if (pacing.byBursts()) {
      // A worker may take every request when the others are slow: count every gap, per worker.
      bound = bound.plusMillis(Math.multiplyExact(spec.requests() / pacing.burst() + 1L, pacing.gapMaxMs()));
    }
    // At most the longest duration a run takes (68 years): --rate 1e-12 made the bound overflow
    // its later toMillis().
    return bound.compareTo(LoadSpec.MAX_DURATION) > 0 ? LoadSpec.MAX_DURATION : bound;
  }

  /**
   * Sends {@code n} requests one after another, on a thread of its own, waiting for them at most
   * {@link #warmupBound}; returns how many failed. Bounded here: HttpClient 5 classic has no
   * whole-call timeout (only one between bytes), so a body that trickles in never ended it.
   *
   * @throws IllegalStateException if the warm-up does not finish within its bound
   */
  private static int warmup(LoadClient client, URI url, byte[] body, int n) throws InterruptedException {
    return n == 0 ? 0 : warmup(client, url, body, n, warmupBound(n));
  }

  /** The longest {@code n} warm-up requests may take: each its full timeout, in turn. */
  static Duration warmupBound(int n) {
    return LoadClient.CALL_TIMEOUT.plusSeconds(5).multipliedBy(n);
  }

  static int warmup(LoadClient client, URI url, byte[] body, int n, Duration bound) throws InterruptedException {
    ExecutorService thread = Executors.newSingleThreadExecutor(daemonThreads());
    try {
      java.util.concurrent.Future<Integer> sent = thread.submit(() -> sendInTurn(client, url, body, n));
      try {
        return sent.get(bound.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("the warm-up did not finish within " + bound.toSeconds() + " s");
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("the warm-up failed: " + describe(e.getCause()), e.getCause());
      }
    } finally {
      thread.shutdownNow(); // a request still under way: the caller closes the client under it
    }
  }

  private static int sendInTurn(LoadClient client, URI url, byte[] body, int n) throws InterruptedException {
    int failed = 0;
    for (int i = 0; i < n; i++) {
      try {
        int status = client.send(url, body);
        failed += status >= 200 && status < 400 ? 0 : 1;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        failed++;
      }
    }
    return failed;
  }

  /** Says it is ready, then waits, bounded by {@link #MAX_START_WAIT_S}, until {@code signal} exists. */
  private static void awaitSignal(Path signal, PrintWriter err) throws InterruptedException {
    err.println(READY + " " + signal);
    err.flush();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_START_WAIT_S);
    while (!Files.exists(signal)) {
      if (System.nanoTime() - end > 0) {
        throw new IllegalStateException("the start signal " + signal + " did not appear within " + MAX_START_WAIT_S + " s");
      }
      Thread.sleep(SIGNAL_POLL_MS);
    }
  }

  private static void closeQuietly(LoadClient client) {
    try {
      client.close();
    } catch (Exception e) {
      // Ended before the load began: nothing was measured that a close failure could spoil.
    }
  }

  /**
   * Sleeps until {@code due} (a {@link System#nanoTime()} value); false, at once, when {@code due}
   * is past {@code deadline} (the run ends first) or the thread was interrupted (the run is over).
   */
  private static boolean sleepUntil(long due, long deadline) {
    if (due - deadline >= 0) {
      return false;
    }
    long left;
    while ((left = due - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** A POST body of {@code size} bytes: printable, so that a server's log of it stays readable. */
  static byte[] body(int size) {
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = (byte) ('a' + i % 26);
    }
    return body;
  }

  /** Waits, bounded by {@link #SETTLE}, until no socket of the target is still closing. */
  private static void settle(TcpTable table, Target target) throws InterruptedException {
    long end = System.nanoTime() + SETTLE.toNanos();
    List<TcpFilter> filters = new ArrayList<>(target.clientSide());
    if (target.local) {
      filters.add(TcpFilter.localPort(target.port));
    }
    while (System.nanoTime() - end < 0) {
      int closing = 0;
      for (TcpFilter f : filters) {
        TcpCounts c = table.count(f);
        closing += c.get(TcpState.FIN_WAIT1) + c.get(TcpState.FIN_WAIT2) + c.get(TcpState.CLOSING)
            + c.get(TcpState.LAST_ACK);
      }
      if (closing == 0) {
        return;
      }
      Thread.sleep(20);
    }
  }

  /** One line naming the failure and its root cause. */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    if (root != e) {
      text += " (cause: " + root.getClass().getName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
    }
    return text.replace('\n', ' ').replace('\r', ' ');
  }

  /** The URL without its user info and query string, which may hold secrets. */
  static String redact(URI url) {
    String authority = url.getRawAuthority();
    if (authority != null && url.getRawUserInfo() != null) {
      authority = authority.substring(authority.lastIndexOf('@') + 1);
    }
    return url.getScheme() + "://" + authority + (url.getRawPath() == null ? "" : url.getRawPath())
        + (url.getRawQuery() == null ? "" : "?...");
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "load-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The target's port and addresses, and whether it is on this host. */
  static final class Target {
    final int port;
    final Set<InetAddress> addresses;
    final boolean local;
    /** The host when it could not be resolved (no kernel counts then), else null. */
    final String unresolvedHost;

    private Target(int port, Set<InetAddress> addresses, boolean local, String unresolvedHost) {
      this.port = port;
      this.addresses = addresses;
      this.local = local;
      this.unresolvedHost = unresolvedHost;
    }

    static Target of(URI url) {
      int port = url.getPort() != -1 ? url.getPort() : "https".equals(url.getScheme().toLowerCase(Locale.ROOT)) ? 443 : 80;
      Set<InetAddress> addresses = new LinkedHashSet<>();
      boolean local = false;
      String unresolved = null;
      try {
        for (InetAddress a : InetAddress.getAllByName(url.getHost())) {
          // Linux connects a socket aimed at the any-address (0.0.0.0, ::) to the loopback
          // address: that is the remote address its table shows (counted at 0.0.0.0, a naive
          // run read 0 client TIME_WAIT).
          addresses.add(a.isAnyLocalAddress() ? loopbackLike(a) : a);
          local |= a.isLoopbackAddress() || a.isAnyLocalAddress() || NetworkInterface.getByInetAddress(a) != null;
        }
      } catch (UnknownHostException e) {
        // The requests report it too; the kernel counts stay null, and the summary says why.
        unresolved = url.getHost();
      } catch (SocketException e) {
        // Only "is it local" is unknown: the server-side count is then left out.
      }
      return new Target(port, addresses, local, unresolved);
    }

    private static InetAddress loopbackLike(InetAddress any) throws UnknownHostException {
      return InetAddress.getByAddress(any.getAddress().length == 4
          ? new byte[] {127, 0, 0, 1}
          : new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    }

    List<TcpFilter> clientSide() {
      List<TcpFilter> filters = new ArrayList<>();
      for (InetAddress a : addresses) {
        filters.add(TcpFilter.remote(new InetSocketAddress(a, port)));
      }
      return filters;
    }
  }
}
