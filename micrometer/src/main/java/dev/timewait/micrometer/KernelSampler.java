package dev.timewait.micrometer;

import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.internal.LibraryThreads;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's side of {@link TimeWaitMetrics}' gauges: client TIME_WAIT and port headroom
 * towards each watched destination, from a sample of the TCP tables that a gauge read takes when
 * the latest one is {@code interval} old or older. One scan covers every destination, so however
 * many gauges and registries read, the tables are scanned at most once per interval; readers that
 * find the sample fresh take no lock. The close listener only adds names to watch: resolving
 * them and scanning happen on the reading thread (a scrape, a registry's publisher), never on a
 * request's.
 *
 * <p>A destination is a {@code host:port} tag as the close events write it. Its host is resolved
 * at each sample ({@link InetAddress#getAllByName}, which answers a literal without a lookup and
 * a name from the JVM's DNS cache), and the counts of all its addresses are taken: TIME_WAIT is
 * their sum, headroom the least of them, since each address has a port budget of its own and the
 * first one to run out makes {@code connect()} fail. A destination first watched after the latest
 * sample, one that does not resolve, and every destination where the tables cannot be read (not
 * Linux) read NaN.
 *
 * <p>A literal address needs no lookup and is answered on the reading thread. A name is looked up
 * on a lookup thread of the sampler's own (daemon, one lookup per destination at a time, ending
 * when idle), and a sample waits at most {@link #LOOKUP_BOUND_NANOS} for all of its destinations'
 * lookups together: while DNS is down, a lookup the JVM's cache cannot answer waits for the
 * system resolver (glibc's default: 5 s, twice), which would otherwise hold the scrape and every
 * reader behind the sampling lock. A destination whose lookup is still under way reads its last
 * addresses (NaN before it has any). Thread-safe.
 */
final class KernelSampler {
  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitMetrics.class);
  private static final Reading UNKNOWN = new Reading(Double.NaN, Double.NaN);

  /** The longest a sample waits for its destinations' name lookups, all together: 1 s. */
  static final long LOOKUP_BOUND_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** How a name becomes addresses: {@link InetAddress#getAllByName}, or a fixture in tests. */
  interface Lookup {
    /** {@return every address of {@code host}} */
    InetAddress[] all(String host) throws UnknownHostException;
  }

  /**
   * The lookup threads: daemon, named, each ending after 30 s without a lookup. Made by whichever
   * thread reads a gauge (a registry's publisher, a web request's scrape): they inherit none of its
   * thread-locals and take this library's class loader as their context class loader, not its (a
   * web application's, which a thread living on after an undeploy would keep).
   */
  private static final ThreadFactory LOOKUP_THREADS =
      task -> LibraryThreads.newDaemon("timewait-metrics-lookup", task);

  private final long intervalNanos;
  private final TcpTable table;
  private final Supplier<KernelSettings> settings;
  private final LongSupplier nanoClock;
  private final Lookup lookup;
  /** At most one lookup per destination at a time (Target.lookup), so at most one thread each. */
  private final ExecutorService lookups = new ThreadPoolExecutor(
      0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), LOOKUP_THREADS);
  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private final ReentrantLock sampling = new ReentrantLock();
  private final AtomicLong scans = new AtomicLong();
  private final AtomicBoolean unsupportedLogged = new AtomicBoolean();

  private volatile Sample latest;

  KernelSampler(long intervalNanos, TcpTable table, Supplier<KernelSettings> settings,
      LongSupplier nanoClock, Lookup lookup) {
    this.intervalNanos = intervalNanos;
    this.table = table;
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.lookup = lookup;
  }

  /** Watches {@code destination}, a {@code host:port} tag; cheap, no lookup. */
  void watch(String destination) {
    targets.computeIfAbsent(destination, Target::parse);
  }

  /** {@return client TIME_WAIT towards {@code destination}, or NaN} */
  double timeWait(String destination) {
    return reading(destination).timeWait;
  }

  /** {@return the ports left for new connections towards {@code destination}, or NaN} */
  double headroom(String destination) {
    return reading(destination).headroom;
  }

  /** {@return the scans of the tables so far} */
  long scans() {
    return scans.get();
  }

  private Reading reading(String destination) {
    Reading r = current().readings.get(destination);
    return r == null ? UNKNOWN : r;
  }

  private Sample current() {
    Sample s = latest;
    if (fresh(s)) {
      return s;
    }
    sampling.lock();
    try {
      s = latest;
      if (fresh(s)) {
        return s; // another reader sampled while this one waited
      }
      s = take();
      latest = s;
      return s;
    } finally {
      sampling.unlock();
    }
  }

  private boolean fresh(Sample s) {
    return s != null && nanoClock.getAsLong() - s.takenNanos < intervalNanos;
  }

  /**
   * A new sample, dated when it ends: a sample that took as long as the interval (a lookup
   * waiting its bound, a large table) dated from its start was stale as it was stored, and every
   * later gauge read of the same scrape waited and scanned again.
   */
  private Sample take() {
    Map<String, Reading> readings = new HashMap<>();
    if (!table.isSupported()) {
      // Off Linux: every gauge reads NaN, and nothing is resolved or scanned.
      if (unsupportedLogged.compareAndSet(false, true)) {
        LOG.debug("TIME_WAIT and port headroom gauges read NaN: {}",
            table.count(TcpFilter.any()).unsupportedReason().orElse("unsupported on this OS"));
      }
      return new Sample(nanoClock.getAsLong(), readings);
    }
    List<String> names = new ArrayList<>();
    List<List<InetSocketAddress>> addresses = new ArrayList<>();
    List<TcpFilter> filters = new ArrayList<>();
    for (Target target : targets.values()) {
      startLookup(target); // every name's at once: the sample waits for them together
    }
    long lookupDeadline = System.nanoTime() + LOOKUP_BOUND_NANOS;
    for (Map.Entry<String, Target> e : targets.entrySet()) {
      List<InetSocketAddress> resolved = resolve(e.getKey(), e.getValue(), lookupDeadline);
      names.add(e.getKey());
      addresses.add(resolved);
      for (InetSocketAddress a : resolved) {
        filters.add(PortBudget.filter(a));
      }
    }
    if (filters.isEmpty()) {
      return new Sample(nanoClock.getAsLong(), readings);
    }
    KernelSettings kernel = settings.get();
    List<TcpCounts> counts = table.count(filters);
    scans.incrementAndGet();
    int next = 0;
    for (int i = 0; i < names.size(); i++) {
      List<InetSocketAddress> resolved = addresses.get(i);
      if (resolved.isEmpty()) {
        continue;
      }
      double timeWait = 0;
      double headroom = Double.POSITIVE_INFINITY;
      for (InetSocketAddress a : resolved) {
        TcpCounts c = counts.get(next++);
        timeWait = c.supported() ? timeWait + c.timeWait() : Double.NaN;
        PortBudget budget = PortBudget.of(a, kernel, c);
        headroom = budget.supported() ? Math.min(headroom, budget.headroom()) : Double.NaN;
      }
      readings.put(names.get(i), new Reading(timeWait, headroom));
    }
    return new Sample(nanoClock.getAsLong(), readings);
  }

  /** Starts {@code target}'s lookup unless one is under way or it needs none; under the lock. */
  private void startLookup(Target target) {
    if (target == null || target.literal || target.lookup != null) {
      return;
    }
    CompletableFuture<List<InetSocketAddress>> f = new CompletableFuture<>();
    try {
      lookups.execute(() -> {
        try {
          f.complete(addresses(target, lookup));
        } catch (Throwable t) {
          f.completeExceptionally(t);
        }
      });
      target.lookup = f;
    } catch (RejectedExecutionException e) {
      LOG.debug("no lookup thread for {}: {}", target.host, e.toString()); // tried again next sample
    }
  }

  /**
   * {@code target}'s addresses for this sample: a literal's at once; a name's once its lookup
   * ends, waiting until {@code deadline} at most (then its last addresses). The sampling lock held.
   */
  private List<InetSocketAddress> resolve(String destination, Target target, long deadline) {
    if (target == null) {
      return List.of();
    }
    try {
      if (target.literal) {
        return addresses(target, InetAddress::getAllByName); // parsed: no lookup, no thread
      }
      CompletableFuture<List<InetSocketAddress>> f = target.lookup;
      if (f == null) {
        return target.last;
      }
      target.last = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      target.lookup = null;
      return target.last;
    } catch (TimeoutException e) {
      LOG.debug("the lookup of {} is still under way: this sample reads its last addresses {}",
          destination, target.last);
      return target.last;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return target.last;
    } catch (ExecutionException | UnknownHostException | SecurityException e) {
      target.lookup = null;
      target.last = List.of();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      LOG.debug("TIME_WAIT and port headroom towards {} read NaN: {}", destination, cause.toString());
      return List.of();
    }
  }

  private static List<InetSocketAddress> addresses(Target target, Lookup lookup)
      throws UnknownHostException {
    Set<InetSocketAddress> all = new LinkedHashSet<>();
    for (InetAddress ip : lookup.all(target.host)) {
      all.add(new InetSocketAddress(ip, target.port));
    }
    return List.copyOf(all);
  }

  /** A destination tag taken apart: {@code host:port}, an IPv6 literal in brackets. */
  private static final class Target {
    final String host;
    final int port;
    /**
     * An IPv4 or IPv6 literal, which {@link InetAddress#getAllByName} parses without a lookup (a
     * name has neither a colon nor only digits and dots).
     */
    final boolean literal;
    /** The lookup under way, or null; read and written under the sampling lock. */
    CompletableFuture<List<InetSocketAddress>> lookup;
    /** The addresses of the last lookup that ended; under the sampling lock. */
    List<InetSocketAddress> last = List.of();

    private Target(String host, int port) {
      this.host = host;
      this.port = port;
      this.literal = host.indexOf(':') >= 0
          || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    /** {@return the target, or null when {@code hostPort} is not a host and a port 1 to 65535} */
    static Target parse(String hostPort) {
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0) {
        return null;
      }
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      try {
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        return port >= 1 && port <= 65_535 ? new Target(host, port) : null;
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  private static final class Reading {
    final double timeWait;
    final double headroom;

    Reading(double timeWait, double headroom) {
      this.timeWait = timeWait;
      this.headroom = headroom;
    }
  }

  private static final class Sample {
    final long takenNanos;
    final Map<String, Reading> readings;

    Sample(long takenNanos, Map<String, Reading> readings) {
      this.takenNanos = takenNanos;
      this.readings = readings;
    }
  }
}
