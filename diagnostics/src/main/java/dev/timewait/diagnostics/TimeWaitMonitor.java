package dev.timewait.diagnostics;

import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the ephemeral-port budget towards one or more destinations ip:port: a daemon thread
 * samples the kernel's TCP tables every {@link #period()} (one scan for all destinations), logs a
 * WARN through SLF4J when TIME_WAIT towards a destination passes {@link #warnShare()} of the usable
 * ports, tells {@linkplain Listener listeners}, and lets the client fail fast: {@link
 * #checkBudget()} throws {@link PortHeadroomException} when the ports left fall under {@link
 * #minHeadroomShare()} of the usable ports, before {@code connect()} fails.
 *
 * <pre>{@code
 * InetSocketAddress server = new InetSocketAddress("10.0.0.7", 443);
 * try (TimeWaitMonitor monitor = TimeWaitMonitor.builder()
 *     .destination(server)
 *     .period(Duration.ofMillis(500))
 *     .warnShare(0.5)
 *     .minHeadroomShare(0.05)
 *     .listener(sample -> System.out.println(sample.budget(server).timeWait()))
 *     .build()
 *     .start()) {
 *   for (Request r : requests) {
 *     monitor.checkBudget();   // throws PortHeadroomException before the ports run out
 *     send(r);
 *   }
 * }
 * }</pre>
 *
 * <p>Defaults: {@link #DEFAULT_PERIOD} (1 s), {@link #DEFAULT_WARN_SHARE} (0.5), {@link
 * #DEFAULT_MIN_HEADROOM_SHARE} (0.05). The kernel settings are read once, when the monitor is
 * built. A sample costs one scan of {@code /proc/net/tcp} and {@code /proc/net/tcp6}; choose the
 * minimum headroom above what the client opens in one period. The warning is logged once when the
 * share is crossed, and again only after TIME_WAIT fell back under {@link #RECOVERY_FACTOR} of
 * it.
 *
 * <p>Off Linux every sample is {@linkplain PortBudget#supported() unsupported}, {@link #start()}
 * starts no thread, and {@link #checkBudget()} never throws: data, never an exception.
 *
 * <p>Thread-safe. Listeners are called one sample at a time, on the thread that took the sample:
 * the monitor's thread, or a caller of {@link #sampleNow()} or {@link #checkBudget()}. {@link
 * #close()} stops the thread and waits, at most {@link #CLOSE_TIMEOUT}, until it has ended.
 */
public final class TimeWaitMonitor implements AutoCloseable {
  /** Default {@link #period()}: 1 second. */
  public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);
  /** The shortest period accepted: 10 ms. */
  public static final Duration MIN_PERIOD = Duration.ofMillis(10);
  /** The longest period accepted: 1 hour. */
  public static final Duration MAX_PERIOD = Duration.ofHours(1);
  /** Default {@link #warnShare()}: 0.5, TIME_WAIT holding half the usable ports. */
  public static final double DEFAULT_WARN_SHARE = NotInlined.of(0.5);
  /** Default {@link #minHeadroomShare()}: 0.05, about 1400 ports of the default range. */
  public static final double DEFAULT_MIN_HEADROOM_SHARE = NotInlined.of(0.05);
  /** A warned destination recovers when TIME_WAIT falls under this share of the warn level: 0.9. */
  public static final double RECOVERY_FACTOR = 0.9;
  /** The longest {@link #close()} waits for the sampler thread to end: 5 seconds. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
  /** The sampler threads' names start with this, followed by a number. */
  public static final String THREAD_NAME_PREFIX = "timewait-monitor-";

  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitMonitor.class);
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final List<InetSocketAddress> destinations;
  private final List<TcpFilter> filters;
  private final Duration period;
  private final double warnShare;
  private final double minHeadroomShare;
  private final KernelSettings settings;
  private final TcpTable table;
  private final MonitorListeners listeners;
  private final String threadName;
  private final SamplerThread sampler;

  /** Serializes samples, so listeners and warnings see them in order. */
  private final ReentrantLock sampleLock = new ReentrantLock();
  private final WarningHysteresis warnings;

  private volatile Sample latest;

  private TimeWaitMonitor(Builder b) {
    this.destinations = List.copyOf(b.destinations);
    List<TcpFilter> f = new ArrayList<>();
    for (InetSocketAddress d : destinations) {
      f.add(PortBudget.filter(d));
    }
    this.filters = List.copyOf(f);
    this.period = b.period;
    this.warnShare = b.warnShare;
    this.minHeadroomShare = b.minHeadroomShare;
    this.settings = b.settings != null ? b.settings : KernelSettings.read();
    this.table = b.table != null ? b.table : TcpTable.system();
    this.listeners = new MonitorListeners(b.listeners);
    this.warnings = new WarningHysteresis(warnShare, destinations.size());
    this.threadName = THREAD_NAME_PREFIX + THREAD_IDS.incrementAndGet();
    this.sampler = new SamplerThread(threadName, period, this::sampleNow);
  }

  /** {@return a builder that starts from the defaults; add at least one destination} */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts sampling on a daemon thread named {@link #threadName()}, and returns this monitor.
   * Does nothing if already started; starts no thread where the kernel cannot be read.
   *
   * @return this monitor
   * @throws IllegalStateException if the monitor was closed
   */
  public TimeWaitMonitor start() {
    sampler.start(this::unsupportedReason, destinations);
    return this;
  }

  private String unsupportedReason() {
    if (!settings.supported()) {
      return settings.unsupportedReason();
    }
    if (!table.isSupported()) {
      return table.count(TcpFilter.any()).unsupportedReason().orElse("unsupported on this OS");
    }
    return null;
  }

  /**
   * Takes a sample now, on the calling thread: one scan of the tables for all destinations. It
   * becomes {@link #latest()}, may log and notify listeners, and is returned.
   *
   * @return the new sample
   */
  public Sample sampleNow() {
    sampleLock.lock();
    try {
      long start = System.nanoTime();
      List<TcpCounts> counts = table.count(filters);
      List<PortBudget> budgets = new ArrayList<>(destinations.size());
      for (int i = 0; i < destinations.size(); i++) {
        budgets.add(PortBudget.of(destinations.get(i), settings, counts.get(i)));
      }
      Sample sample = new Sample(Instant.now(), System.nanoTime() - start, budgets);
      latest = sample;
      for (int i = 0; i < budgets.size(); i++) {
        judge(i, budgets.get(i));
      }
      listeners.each(l -> l.onSample(sample));
      return sample;
    } finally {
      sampleLock.unlock();
    }
  }

  private void judge(int i, PortBudget b) {
    switch (warnings.judge(i, b)) {
      case WARNED -> {
        String message = warnings.message(b);
        LOG.warn(message);
        listeners.each(l -> l.onWarning(b, message));
      }
      case RECOVERED -> {
        LOG.debug("TIME_WAIT towards {} back to {} of {} usable ports", hostPort(b), b.timeWait(),
            b.usablePorts());
        listeners.each(l -> l.onRecovered(b));
      }
      case NONE -> {
        if (b.supported() && LOG.isDebugEnabled()) {
          LOG.debug("TIME_WAIT towards {}: {} of {} usable ports, headroom {}", hostPort(b),
              b.timeWait(), b.usablePorts(), b.headroom());
        }
      }
    }
  }

  private static String hostPort(PortBudget b) {
    return HostPort.of(b.destination());
  }

  /**
   * Fails fast: throws if any destination has fewer ports left than the minimum headroom. Uses
   * the latest sample while the monitor runs (no scan: cheap enough to call per request), and
   * takes a sample now otherwise (once only where the kernel's settings cannot be read: every
   * budget is then unsupported).
   *
   * @throws PortHeadroomException naming the destination, the ports left and what to change
   */
  public void checkBudget() {
    Sample sample = current();
    for (PortBudget b : sample.budgets()) {
      check(b);
    }
  }

  /**
   * Fails fast for one monitored destination, as {@link #checkBudget()}, and returns its budget.
   *
   * @param destination a resolved ip:port
   * @return the destination's budget, which had enough headroom
   * @throws PortHeadroomException when its ports left are under the minimum headroom
   * @throws IllegalArgumentException if {@code destination} is not monitored
   */
  public PortBudget checkBudget(InetSocketAddress destination) {
    Preconditions.checkNotNull(destination, "destination");
    Preconditions.checkArgument(destinations.contains(destination),
        "destination must be one of " + destinations + ", but was " + destination);
    return check(current().budget(destination));
  }

  private Sample current() {
    Sample s = latest;
    // Without settings (a container hiding /proc/sys) every budget is unsupported whatever the
    // table says, and start() started no thread: one sample serves, not a scan per check.
    return s != null && (isRunning() || !settings.supported()) ? s : sampleNow();
  }

  private PortBudget check(PortBudget b) {
    if (!b.supported()) {
      return b;
    }
    int min = minHeadroom(b);
    if (b.headroom() < min) {
      throw new PortHeadroomException(b, min);
    }
    return b;
  }

  /**
   * The least headroom accepted for {@code budget}: {@code ceil(minHeadroomShare * usable)}.
   *
   * @param budget the port budget
   * @return the least headroom accepted for {@code budget}
   */
  public int minHeadroom(PortBudget budget) {
    Preconditions.checkNotNull(budget, "budget");
    return (int) Math.ceil(minHeadroomShare * budget.usablePorts());
  }

  /** {@return the latest sample, if one was taken} */
  public Optional<Sample> latest() {
    return Optional.ofNullable(latest);
  }

  /**
   * Adds a listener, called for each later sample.
   *
   * @param listener the listener
   */
  public void addListener(Listener listener) {
    listeners.add(Preconditions.checkNotNull(listener, "listener"));
  }

  /**
   * Removes a listener; returns whether it was there.
   *
   * @param listener the listener
   * @return whether the listener was registered
   */
  public boolean removeListener(Listener listener) {
    return listeners.remove(Preconditions.checkNotNull(listener, "listener"));
  }

  /** {@return whether the sampler thread runs} */
  public boolean isRunning() {
    return sampler.isRunning();
  }

  /** {@return the name of this monitor's sampler thread, {@link #THREAD_NAME_PREFIX} and a number} */
  public String threadName() {
    return threadName;
  }

  /** {@return the destinations watched, in the order given} */
  public List<InetSocketAddress> destinations() {
    return destinations;
  }

  /** {@return how often the thread samples} */
  public Duration period() {
    return period;
  }

  /** {@return the share of the usable ports in TIME_WAIT that logs a warning} */
  public double warnShare() {
    return warnShare;
  }

  /** {@return the share of the usable ports that must stay free, or {@link #checkBudget()} throws} */
  public double minHeadroomShare() {
    return minHeadroomShare;
  }

  /** {@return the kernel settings the budgets use, read when the monitor was built} */
  public KernelSettings settings() {
    return settings;
  }

  /**
   * Stops the sampler thread and waits, at most {@link #CLOSE_TIMEOUT}, until it has ended.
   * Idempotent. A sample in progress finishes first.
   */
  @Override
  public void close() {
    sampler.close();
  }

  /**
   * Told of each sample, and of each destination that crosses the warning share and recovers.
   * Called on the thread that took the sample, one sample at a time; keep it quick. An exception
   * it throws is logged and ignored.
   *
   * <pre>{@code
   * monitor.addListener(sample -> metrics.gauge("timewait", sample.budgets().get(0).timeWait()));
   * }</pre>
   */
  @FunctionalInterface
  public interface Listener {
    /**
     * A sample was taken.
     *
     * @param sample the sample just taken
     */
    void onSample(Sample sample);

    /**
     * TIME_WAIT towards {@code budget}'s destination passed the warning share.
     *
     * @param budget the port budget
     * @param message what went wrong
     */
    default void onWarning(PortBudget budget, String message) {}

    /**
     * TIME_WAIT towards a warned destination fell back under the warning share.
     *
     * @param budget the port budget
     */
    default void onRecovered(PortBudget budget) {}
  }

  /**
   * One sample: the budget of each destination, in the monitor's order. Immutable and
   * thread-safe.
   *
   * <pre>{@code
   * Sample s = monitor.sampleNow();
   * System.out.println(s.budget(server).describe() + " (sampled in " + s.durationNanos() + " ns)");
   * }</pre>
   *
   * @param time when the sample was taken
   * @param durationNanos how long the scan took
   * @param budgets each destination's budget, in the monitor's order
   */
  public record Sample(Instant time, long durationNanos, List<PortBudget> budgets) {
    /**
     * Validates: no component is null.
     *
     * @param time when the sample was taken
     * @param durationNanos how long the scan took
     * @param budgets each destination's budget, in the monitor's order
     */
    public Sample {
      Preconditions.checkNotNull(time, "time");
      Preconditions.checkNotNull(budgets, "budgets");
      budgets = List.copyOf(budgets);
    }

    /**
     * The budget towards {@code destination}.
     *
     * @param destination a resolved ip:port
     * @return the budget towards {@code destination}
     * @throws IllegalArgumentException if the sample has none for it
     */
    public PortBudget budget(InetSocketAddress destination) {
      Preconditions.checkNotNull(destination, "destination");
      for (PortBudget b : budgets) {
        if (b.destination().equals(destination)) {
          return b;
        }
      }
      throw new IllegalArgumentException(
          "destination must be one of the sample's destinations, but was " + destination);
    }

    /** {@return whether every budget could be read} */
    public boolean supported() {
      return budgets.stream().allMatch(PortBudget::supported);
    }
  }

  /**
   * Builds a {@link TimeWaitMonitor}. Nulls fail at once, values in {@link #build()}. Not
   * thread-safe; use one builder per thread.
   */
  public static final class Builder {
    private final List<InetSocketAddress> destinations = new ArrayList<>();
    private final List<Listener> listeners = new ArrayList<>();
    private Duration period = DEFAULT_PERIOD;
    private double warnShare = DEFAULT_WARN_SHARE;
    private double minHeadroomShare = DEFAULT_MIN_HEADROOM_SHARE;
    private KernelSettings settings;
    private TcpTable table;

    private Builder() {}

    /**
     * Adds a destination ip:port to watch; it must be resolved and its port 1 to 65535.
     *
     * @param destination a resolved ip:port
     * @return this builder
     */
    public Builder destination(InetSocketAddress destination) {
      Preconditions.checkNotNull(destination, "destination");
      Preconditions.checkArgument(!destination.isUnresolved(),
          "destination must be resolved, but was " + destination);
      Preconditions.checkInRange(destination.getPort(), 1, PortRange.MAX_PORT, "destination port");
      if (!destinations.contains(destination)) {
        destinations.add(destination);
      }
      return this;
    }

    /**
     * Adds each of {@code destinations}, as {@link #destination(InetSocketAddress)}.
     *
     * @param destinations the destinations
     * @return this builder
     */
    public Builder destinations(Collection<InetSocketAddress> destinations) {
      Preconditions.checkNotNull(destinations, "destinations");
      for (InetSocketAddress d : destinations) {
        destination(d);
      }
      return this;
    }

    /**
     * How often to sample; {@link #MIN_PERIOD} to {@link #MAX_PERIOD}. Default {@link #DEFAULT_PERIOD}.
     *
     * @param period the time between two samples
     * @return this builder
     */
    public Builder period(Duration period) {
      this.period = Preconditions.checkNotNull(period, "period");
      return this;
    }

    /**
     * The share of the usable ports in TIME_WAIT towards a destination that logs a warning;
     * above 0, at most 1. Default {@link #DEFAULT_WARN_SHARE}.
     *
     * @param warnShare a share of the usable ports, 0 to 1
     * @return this builder
     */
    public Builder warnShare(double warnShare) {
      this.warnShare = warnShare;
      return this;
    }

    /**
     * The share of the usable ports that must stay free, or {@link #checkBudget()} throws; 0
     * (never throw) to 1. Default {@link #DEFAULT_MIN_HEADROOM_SHARE}.
     *
     * @param minHeadroomShare a share of the usable ports, 0 to 1
     * @return this builder
     */
    public Builder minHeadroomShare(double minHeadroomShare) {
      this.minHeadroomShare = minHeadroomShare;
      return this;
    }

    /**
     * Adds a listener.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(Listener listener) {
      listeners.add(Preconditions.checkNotNull(listener, "listener"));
      return this;
    }

    /**
     * The kernel settings to use instead of reading them: fixtures, say.
     *
     * @param settings the kernel settings
     * @return this builder
     */
    public Builder settings(KernelSettings settings) {
      this.settings = Preconditions.checkNotNull(settings, "settings");
      return this;
    }

    /**
     * The TCP tables to scan instead of the live kernel's: fixtures, say.
     *
     * @param table the TCP table to read
     * @return this builder
     */
    public Builder table(TcpTable table) {
      this.table = Preconditions.checkNotNull(table, "table");
      return this;
    }

    /**
     * Returns the monitor, not yet started; throws IAE naming the first invalid value.
     *
     * @return the new {@code TimeWaitMonitor}
     */
    public TimeWaitMonitor build() {
      Preconditions.checkArgument(!destinations.isEmpty(),
          "destinations must not be empty: add one with destination(InetSocketAddress)");
      Preconditions.checkPositive(period, MAX_PERIOD, "period"); // "> 0" for zero and below
      Preconditions.checkBetween(period, MIN_PERIOD, MAX_PERIOD, "period");
      if (!(warnShare > 0 && warnShare <= 1)) {
        throw new IllegalArgumentException("warnShare must be > 0 and <= 1, but was " + warnShare);
      }
      Preconditions.checkInRange(minHeadroomShare, 0.0, 1.0, "minHeadroomShare");
      return new TimeWaitMonitor(this);
    }
  }
}
