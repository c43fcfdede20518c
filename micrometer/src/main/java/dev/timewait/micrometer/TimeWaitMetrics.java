package dev.timewait.micrometer;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseListener;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.internal.HostPorts;
import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters over one client's {@link CloseAccounting}: binding it to a registry adds a {@link
 * CloseListener} to the accounting (once, however many registries it is bound to) and registers
 *
 * <ul>
 *   <li>{@value #OPENED} (function counter over the accounting's opened count),
 *   <li>{@value #CLOSED} (counter per {@code destination}, {@code mode}, {@code reason}),
 *   <li>{@value #FIN_WAIT} (timer of server closes' waits for the peer's FIN, per destination),
 *   <li>{@value #REQUESTS} (distribution summary of the requests a connection carried, where the
 *       adapter knows them),
 * </ul>
 *
 * <p>and, with {@link Builder#kernelGauges()}, two gauges per destination from the kernel's TCP
 * table (timewait-diagnostics' {@link TcpTable} and {@link PortBudget}):
 *
 * <ul>
 *   <li>{@value #TIME_WAIT} (base unit {@value #CONNECTIONS}): sockets of this host in TIME_WAIT
 *       towards the destination, whichever client or process closed them first;
 *   <li>{@value #PORT_HEADROOM} (base unit {@value #PORTS}): the ephemeral ports left for new
 *       connections to it before {@code connect()} fails, {@link PortBudget#headroom()}.
 * </ul>
 *
 * <p>The gauges are sampled, never on the request path: a read (a scrape, a registry's publish)
 * scans the tables when the latest sample is {@link Builder#kernelGauges(Duration) the sampling
 * interval} old or older ({@link #DEFAULT_KERNEL_SAMPLE_INTERVAL} by default), one scan for every
 * destination, so the tables are scanned at most once per interval however many gauges and
 * registries read them; no sampling thread is started (a destination given by name is looked up
 * on a short-lived daemon thread, {@code timewait-metrics-lookup}, so that a hung resolver holds a
 * sample up for at most 1 s). A destination first metered after the latest sample
 * reads NaN until the next one, and so does every destination where the tables cannot be read
 * (not Linux: data, never an exception).
 *
 * <p>Every meter is tagged {@code client} (the name given here); the others also {@code
 * destination} ({@code host:port}), at most {@link #DEFAULT_MAX_DESTINATIONS} distinct ones (set
 * with {@link Builder#maxDestinations}); later destinations are tagged {@value #OTHER}, and closes
 * whose destination the recording point does not know {@value #UNKNOWN_DESTINATION}; neither has
 * gauges. {@link Builder#destination} names a destination ahead of its first close, so that its
 * gauges exist from the first bind. {@code mode} and {@code reason} are {@link CloseEvent.Mode} and
 * {@link CloseEvent.Reason} in lower case.
 *
 * <pre>{@code
 * TimeWaitMetrics.of("payments", TimeWaitOkHttp.accounting(client)).bindTo(registry);
 * TimeWaitMetrics.builder("payments", TimeWaitOkHttp.accounting(client))
 *     .kernelGauges()
 *     .build()
 *     .bindTo(registry);
 * }</pre>
 *
 * <p>Thread-safe. Immutable once built, apart from the registries it is bound to, the
 * destinations it has met and its latest kernel sample.
 */
public final class TimeWaitMetrics implements MeterBinder, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitMetrics.class);
  /** Meter name: connections opened. */
  public static final String OPENED = "timewait.connections.opened";
  /** Meter name: connections closed, by mode and reason. */
  public static final String CLOSED = "timewait.connections.closed";
  /** Meter name: the waits for the server's FIN. */
  public static final String FIN_WAIT = "timewait.fin.wait";
  /** Meter name: requests per connection. */
  public static final String REQUESTS = "timewait.connection.requests";
  /** Meter name: client sockets in TIME_WAIT towards a destination (gauge, kernel). */
  public static final String TIME_WAIT = "timewait.connections.time.wait";
  /** Meter name: ephemeral ports left for new connections to a destination (gauge, kernel). */
  public static final String PORT_HEADROOM = "timewait.ports.headroom";
  /** Every meter name this binder registers: what {@link #close()} removes. */
  private static final Set<String> NAMES = Set.of(OPENED, CLOSED, FIN_WAIT, REQUESTS, TIME_WAIT, PORT_HEADROOM);
  /** Base unit of {@value #TIME_WAIT}. */
  public static final String CONNECTIONS = "connections";
  /** Base unit of {@value #PORT_HEADROOM}. */
  public static final String PORTS = "ports";
  /** The destination tag beyond the cap. */
  public static final String OTHER = "other";
  /** The destination tag where the recording point does not know the destination. */
  public static final String UNKNOWN_DESTINATION = "unknown";
  /** Distinct destination tag values by default: 100. */
  public static final int DEFAULT_MAX_DESTINATIONS = NotInlined.of(100);
  /**
   * How old the kernel sample may grow before a gauge read takes a new one, by default: 5
   * seconds. A scrape every 15 s or more then always reads a fresh sample, and several registries
   * or gauges read within 5 s share one scan.
   */
  public static final Duration DEFAULT_KERNEL_SAMPLE_INTERVAL = Duration.ofSeconds(5);
  /** The longest sampling interval accepted: 1 hour. */
  public static final Duration MAX_KERNEL_SAMPLE_INTERVAL = Duration.ofHours(1);

  private final String client;
  private final CloseAccounting accounting;
  private final int maxDestinations;
  private final List<String> declared;
  private final Duration kernelSampleInterval;
  private final Kernel kernel;
  private final KernelSampler sampler;
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  /**
   * Every registry ever bound, unbound ones too, weakly (by identity: registries do not override
   * equals): where {@link #close()} removes meters.
   */
  private final Set<MeterRegistry> everBound =
      java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
  /**
   * The {@value #OPENED} counter this binder registered in each registry, weakly by registry: it
   * tells this binder's meters from those of another binder bound later under the same client
   * name, which takes the name over (see {@link #bindTo}).
   */
  private final Map<MeterRegistry, Meter> ownOpened =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
  /** Registries that refused a meter, weakly: each is warned of once. */
  private final Set<MeterRegistry> failedRegistries =
      java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
  /**
   * Orders what reads and changes which binder holds a client name in a registry: a bind taking
   * it over, a close removing its meters, a new destination's gauges. All JVM-wide and rare (a
   * bind, a close, a destination's first close), so one lock serves every binder.
   */
  private static final Object NAME_LOCK = new Object();
  /**
   * The binder that registered each {@value #OPENED} counter, weakly both ways; under {@link
   * #NAME_LOCK}: a binder taking a name over finds there the one it takes it from.
   */
  private static final Map<Meter, java.lang.ref.WeakReference<TimeWaitMetrics>> OPENED_BY =
      new java.util.WeakHashMap<>();
  /** Set by {@link #close()}: a close under way as it runs registers nothing more. */
  private volatile boolean closed;
  private final ConcurrentHashMap<String, Boolean> destinations = new ConcurrentHashMap<>();
  private final CloseListener listener = this::closed;

  private TimeWaitMetrics(String client, CloseAccounting accounting, int maxDestinations,
      List<String> declared, Duration kernelSampleInterval, Kernel kernel) {
    this.client = client;
    this.accounting = accounting;
    this.maxDestinations = maxDestinations;
    this.declared = List.copyOf(declared);
    if (this.declared.size() > maxDestinations) {
      throw new IllegalArgumentException("destinations must be at most maxDestinations ("
          + maxDestinations + "), but were " + this.declared.size() + ": " + this.declared);
    }
    this.kernelSampleInterval = kernelSampleInterval;
    this.kernel = kernel;
    this.sampler = kernelSampleInterval == null ? null : new KernelSampler(
        kernelSampleInterval.toNanos(), kernel.table, kernel.settings, kernel.nanoClock, kernel.lookup);
    for (String d : this.declared) {
      destinations.put(d, Boolean.TRUE);
      if (sampler != null) {
        sampler.watch(d);
      }
    }
  }

  /**
   * Meters for {@code accounting}, tagged {@code client=clientName}, with at most {@link
   * #DEFAULT_MAX_DESTINATIONS} destinations and no kernel gauges: {@code
   * builder(clientName, accounting).build()}.
   *
   * @param clientName the client's name, a tag value
   * @param accounting the client's accounting
   * @return the binder
   */
  public static TimeWaitMetrics of(String clientName, CloseAccounting accounting) {
    return builder(clientName, accounting).build();
  }

  /**
   * A builder for meters over {@code accounting}, tagged {@code client=clientName}.
   *
   * @param clientName the client's name, a tag value
   * @param accounting the client's accounting
   * @return a builder with the defaults: {@link #DEFAULT_MAX_DESTINATIONS}, no kernel gauges
   */
  public static Builder builder(String clientName, CloseAccounting accounting) {
    return new Builder(Preconditions.checkNotNull(clientName, "clientName"),
        Preconditions.checkNotNull(accounting, "accounting"));
  }

  /**
   * A copy with another cap on distinct destination tags, and otherwise the same settings.
   *
   * @param max distinct destinations tagged by name, &gt; 0
   * @return the copy (unbound)
   * @throws IllegalArgumentException if {@code max} is not positive, or below the destinations
   *     named ahead
   */
  public TimeWaitMetrics maxDestinations(int max) {
    return new TimeWaitMetrics(client, accounting,
        Preconditions.checkPositive(max, "maxDestinations"), declared, kernelSampleInterval, kernel);
  }

  /** {@return the kernel gauges' sampling interval, or empty without kernel gauges} */
  public Optional<Duration> kernelSampleInterval() {
    return Optional.ofNullable(kernelSampleInterval);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Preconditions.checkNotNull(registry, "registry");
    if (closed) {
      throw new IllegalStateException("TimeWaitMetrics for client " + client + " is closed");
    }
    synchronized (NAME_LOCK) {
      takeName(registry);
    }
    synchronized (registries) {
      // The listener joins with the first registry and leaves with the last, both under this
      // lock: a bind racing an unbind can neither add it twice (every close counted twice) nor
      // lose it, and a gauge below that fails to register cannot keep it from being added.
      if (registries.isEmpty()) {
        accounting.addListener(listener);
      }
      // A registry bound twice (a Spring bean Boot binds, and a bindTo of the user's) is bound
      // once: in the list twice, every close would count twice in it.
      if (registries.stream().noneMatch(bound -> bound == registry)) {
        registries.add(registry);
      }
      everBound.add(registry);
    }
    // After the registry joined the list: a destination met meanwhile gets its gauges from
    // destinationTag or from here (registering twice returns the same gauge).
    for (String d : destinations.keySet()) {
      registerGauges(registry, d);
    }
    if (closed) {
      // close() ran whole while this bind registered (its flag is set before it removes
      // anything): it found none of this bind's meters or its listener; undo them as it would.
      unbindAll();
      removeAfterClose();
    }
  }

  /**
   * Registers the {@value #OPENED} counter, taking the client name over from another binder that
   * holds it in {@code registry}. Under {@link #NAME_LOCK}.
   */
  private void takeName(MeterRegistry registry) {
    Meter current = registry.find(OPENED).tag("client", client).meter();
    if (current != null && current != ownOpened.get(registry)) {
      java.lang.ref.WeakReference<TimeWaitMetrics> holder = OPENED_BY.get(current);
      TimeWaitMetrics previous = holder == null ? null : holder.get();
      if (previous != null && previous.accounting == accounting) {
        // Another binder object over the same accounting (a Spring bean Boot binds, and the
        // README's TimeWaitMetrics.of(...).bindTo of the user's): its closes are this one's, and
        // both metering them into the shared counters counted each close twice. This one meters
        // them in this registry from now on.
        previous.leave(registry);
      }
      // Another binder's meters under this client name (a client recreated without closing the
      // binder of the one it replaces): Micrometer would hand back its opened counter, which
      // reads the other client's accounting, and its gauges, which read the other's sampler.
      // The newest binder takes the name over; the close counters stay shared, and the other
      // binder's close() leaves them.
      LOG.debug("client name {} was bound to this registry by another TimeWaitMetrics: its opened counter"
          + " and kernel gauges now read this one's client", client);
      removeMeters(registry, Set.of(OPENED, TIME_WAIT, PORT_HEADROOM));
    }
    Meter opened = FunctionCounter.builder(OPENED, accounting, a -> a.snapshot().connectionsOpened())
        .description("Connections the client opened")
        .tag("client", client)
        .register(registry);
    ownOpened.put(registry, opened);
    OPENED_BY.put(opened, new java.lang.ref.WeakReference<>(this));
  }

  /** Stops metering closes into {@code registry}: a binder bound later took the name over. */
  private void leave(MeterRegistry registry) {
    synchronized (registries) {
      if (registries.removeIf(bound -> bound == registry) && registries.isEmpty()) {
        accounting.removeListener(listener);
      }
    }
  }

  /** Stops metering closes (the meters stay in their registries). */
  public void unbind() {
    unbindAll();
  }

  /**
   * Stops metering closes, as {@link #unbind()}, and removes this client's meters (those tagged
   * with its {@code client} name) from every registry it was bound to: for a client that goes
   * before its registry (one per tenant, per test, per refreshed Spring context, where Spring
   * calls {@code close()} on a bean), whose meters, and the kernel sampler its gauges hold,
   * would otherwise stay as long as the registry. Meters of another binder with the same client
   * name in those registries go too: they are the same meters; unless that binder was bound
   * after this one, and so took the name over: then they stay. Idempotent; a closed binder
   * meters nothing more and cannot be bound again.
   */
  @Override
  public void close() {
    closed = true;
    unbindAll();
    removeAfterClose();
  }

  /**
   * Whether the client name's meters in {@code registry} are this binder's: no binder bound
   * later under the same name took them over (its {@value #OPENED} counter replaced this one's).
   */
  private boolean ownsName(MeterRegistry registry) {
    Meter current = registry.find(OPENED).tag("client", client).meter();
    return current == null || current == ownOpened.get(registry);
  }

  /** Removes the meters named {@code names} and tagged with this client's name. */
  private void removeMeters(MeterRegistry registry, Set<String> names) {
    for (Meter meter : registry.getMeters()) {
      Meter.Id id = meter.getId();
      if (names.contains(id.getName()) && client.equals(id.getTag("client"))) {
        registry.remove(meter);
      }
    }
  }

  /** Unbinds; the registries it was bound to. */
  private List<MeterRegistry> unbindAll() {
    synchronized (registries) {
      List<MeterRegistry> bound = List.copyOf(registries);
      if (!registries.isEmpty()) {
        registries.clear();
        accounting.removeListener(listener);
      }
      return bound;
    }
  }

  /** {@return the kernel scans so far, for tests} */
  long kernelScans() {
    return sampler == null ? 0 : sampler.scans();
  }

  private void closed(CloseEvent event) {
    if (closed) {
      return; // a close that was under way as this binder closed: its meters are gone
    }
    String destination = destinationTag(event.destination());
    Tags where = Tags.of("client", client, "destination", destination);
    Tags closed = where.and("mode", event.mode().name().toLowerCase(Locale.ROOT),
        "reason", event.reason().name().toLowerCase(Locale.ROOT));
    for (MeterRegistry registry : registries) {
      try {
        Counter.builder(CLOSED).description("Connections closed, by how and why")
            .tags(closed).register(registry).increment();
        if (event.finWaitNanos() > 0) {
          Timer.builder(FIN_WAIT).description("Server closes' waits for the server's FIN")
              .tags(where).register(registry).record(event.finWaitNanos(), TimeUnit.NANOSECONDS);
        }
        if (event.requests() >= 0) {
          DistributionSummary.builder(REQUESTS).description("Requests a connection carried")
              .baseUnit("requests").tags(where).register(registry).record(event.requests());
        }
      } catch (RuntimeException e) {
        failedIn(registry, e);
      }
    }
    if (this.closed) {
      // close() ran while this close registered its meters, maybe removing before they came:
      // its flag was set before it removed anything, so reading it now catches every such case.
      removeAfterClose();
    }
  }

  /**
   * Removes this client's meters from every registry it was bound to, where the name is still
   * this binder's: {@link #close()}'s work, and again after a close that was under way as it ran.
   */
  private void removeAfterClose() {
    List<MeterRegistry> bound;
    synchronized (everBound) {
      bound = List.copyOf(everBound);
    }
    synchronized (NAME_LOCK) {
      for (MeterRegistry registry : bound) {
        if (ownsName(registry)) {
          removeMeters(registry, NAMES);
        }
      }
    }
  }

  /**
   * A registry that refused a meter (a filter that throws; Prometheus's registry refuses a name
   * registered with other tag keys): the others still meter the close. Before, the exception
   * ended the listener, and the close was metered in no registry.
   */
  private void failedIn(MeterRegistry registry, RuntimeException e) {
    if (failedRegistries.add(registry)) {
      LOG.warn("TimeWaitMetrics for client {}: {} refused a meter; the other registries still meter"
          + " each close, and further failures in it are logged at debug", client, registry, e);
    } else {
      LOG.debug("TimeWaitMetrics for client {}: {} refused a meter again", client, registry, e);
    }
  }

  private String destinationTag(String destination) {
    if (destination == null) {
      return UNKNOWN_DESTINATION;
    }
    if (destinations.containsKey(destination)) {
      return destination;
    }
    synchronized (destinations) {
      if (destinations.containsKey(destination)) {
        return destination;
      }
      if (destinations.size() >= maxDestinations) {
        return OTHER;
      }
      destinations.put(destination, Boolean.TRUE);
    }
    // A new destination, at most maxDestinations times: its gauges (no scan, no lookup here).
    for (MeterRegistry registry : registries) {
      try {
        registerGauges(registry, destination);
      } catch (RuntimeException e) {
        failedIn(registry, e);
      }
    }
    return destination;
  }

  private void registerGauges(MeterRegistry registry, String destination) {
    if (sampler == null) {
      return;
    }
    synchronized (NAME_LOCK) {
      if (ownsName(registry)) { // else the name was taken over: its gauges read the newer binder's sampler
        registerOwnGauges(registry, destination);
      }
    }
  }

  private void registerOwnGauges(MeterRegistry registry, String destination) {
    sampler.watch(destination);
    Tags where = Tags.of("client", client, "destination", destination);
    // Strong references: the registry keeps the sampler (and so the gauges' values) alive for as
    // long as it keeps the gauges, whether or not the caller keeps this binder.
    Gauge.builder(TIME_WAIT, sampler, s -> s.timeWait(destination))
        .description("Client sockets in TIME_WAIT towards the destination (kernel, sampled)")
        .baseUnit(CONNECTIONS).tags(where).strongReference(true).register(registry);
    Gauge.builder(PORT_HEADROOM, sampler, s -> s.headroom(destination))
        .description("Ephemeral ports left for new connections to the destination (kernel, sampled)")
        .baseUnit(PORTS).tags(where).strongReference(true).register(registry);
  }

  /** Where the kernel gauges read from: the live kernel, or fixtures in tests. */
  static final class Kernel {
    static final Kernel SYSTEM = new Kernel(TcpTable.system(), KernelSettings::read, System::nanoTime,
        InetAddress::getAllByName);

    final TcpTable table;
    final Supplier<KernelSettings> settings;
    final LongSupplier nanoClock;
    final KernelSampler.Lookup lookup;

    Kernel(TcpTable table, Supplier<KernelSettings> settings, LongSupplier nanoClock,
        KernelSampler.Lookup lookup) {
      this.table = table;
      this.settings = settings;
      this.nanoClock = nanoClock;
      this.lookup = lookup;
    }
  }

  /**
   * Builds a {@link TimeWaitMetrics}. Immutable: each setting returns a new builder and leaves
   * this one as it was, so a builder can be kept and shared as a template (thread-safe). Bad
   * values fail at once, naming the setting; {@link #build()} checks that the destinations named
   * fit the cap.
   *
   * <pre>{@code
   * TimeWaitMetrics metrics = TimeWaitMetrics.builder("payments", accounting)
   *     .maxDestinations(20)
   *     .destination("payments.internal", 443)
   *     .kernelGauges(Duration.ofSeconds(10))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final String client;
    private final CloseAccounting accounting;
    private final int maxDestinations;
    private final List<String> declared;
    private final Duration kernelSampleInterval;
    private final Kernel kernel;

    private Builder(String client, CloseAccounting accounting) {
      this(client, accounting, DEFAULT_MAX_DESTINATIONS, List.of(), null, Kernel.SYSTEM);
    }

    private Builder(String client, CloseAccounting accounting, int maxDestinations,
        List<String> declared, Duration kernelSampleInterval, Kernel kernel) {
      this.client = client;
      this.accounting = accounting;
      this.maxDestinations = maxDestinations;
      this.declared = declared;
      this.kernelSampleInterval = kernelSampleInterval;
      this.kernel = kernel;
    }

    /**
     * Distinct destinations tagged by name; later ones are tagged {@value
     * TimeWaitMetrics#OTHER}. Default {@link TimeWaitMetrics#DEFAULT_MAX_DESTINATIONS}.
     *
     * @param max distinct destination tags, &gt; 0
     * @return a new builder with this setting
     */
    public Builder maxDestinations(int max) {
      return new Builder(client, accounting, Preconditions.checkPositive(max, "maxDestinations"),
          declared, kernelSampleInterval, kernel);
    }

    /**
     * Names a destination ahead of its first close, as the close events write it ({@code
     * host:port}, the host as the client was given it): its kernel gauges exist from the first
     * bind. Counts towards {@link #maxDestinations}.
     *
     * @param host the host as the client's requests name it, a name or an IP literal
     * @param port the port, 1 to 65535
     * @return a new builder with this destination too
     */
    public Builder destination(String host, int port) {
      Preconditions.checkNotNull(host, "host");
      Preconditions.checkArgument(!host.isBlank(), "host must not be blank, but was \"" + host + "\"");
      Preconditions.checkInRange(port, 1, 65_535, "port");
      Set<String> more = new LinkedHashSet<>(declared);
      more.add(HostPorts.of(host, Integer.toString(port)));
      return new Builder(client, accounting, maxDestinations, List.copyOf(more),
          kernelSampleInterval, kernel);
    }

    /**
     * Adds the kernel gauges {@value TimeWaitMetrics#TIME_WAIT} and {@value
     * TimeWaitMetrics#PORT_HEADROOM}, sampled at most once per {@link
     * TimeWaitMetrics#DEFAULT_KERNEL_SAMPLE_INTERVAL}.
     *
     * @return a new builder with this setting
     */
    public Builder kernelGauges() {
      return kernelGauges(DEFAULT_KERNEL_SAMPLE_INTERVAL);
    }

    /**
     * Adds the kernel gauges, sampled at most once per {@code sampleInterval}: a gauge read takes
     * a new sample (one scan of {@code /proc/net/tcp} and {@code tcp6}) when the latest is that
     * old. Choose it at or under the scrape interval. A scan took 60 ms with 30,000 sockets in
     * the tables (docs/diagnostics-benchmark.md), on the reading thread.
     *
     * @param sampleInterval how old a sample may grow, &gt; 0 and at most {@link
     *     TimeWaitMetrics#MAX_KERNEL_SAMPLE_INTERVAL}
     * @return a new builder with this setting
     */
    public Builder kernelGauges(Duration sampleInterval) {
      return new Builder(client, accounting, maxDestinations, declared,
          Preconditions.checkPositive(sampleInterval, MAX_KERNEL_SAMPLE_INTERVAL,
              "kernelSampleInterval"),
          kernel);
    }

    /** Fixtures and a clock instead of the live kernel: for tests. */
    Builder kernel(TcpTable table, Supplier<KernelSettings> settings, LongSupplier nanoClock) {
      return kernel(table, settings, nanoClock, InetAddress::getAllByName);
    }

    /** The same, with a name lookup of the test's: for tests. */
    Builder kernel(TcpTable table, Supplier<KernelSettings> settings, LongSupplier nanoClock,
        KernelSampler.Lookup lookup) {
      return new Builder(client, accounting, maxDestinations, declared, kernelSampleInterval,
          new Kernel(table, settings, nanoClock, lookup));
    }

    /**
     * Returns a new binder, not yet bound.
     *
     * @return the binder
     * @throws IllegalArgumentException if more destinations were named than {@link
     *     #maxDestinations} allows
     */
    public TimeWaitMetrics build() {
      return new TimeWaitMetrics(client, accounting, maxDestinations, declared,
          kernelSampleInterval, kernel);
    }
  }
}
