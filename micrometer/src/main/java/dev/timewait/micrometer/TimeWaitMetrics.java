package dev.timewait.micrometer;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseListener;
import dev.timewait.internal.Preconditions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Meters over one client's {@link CloseAccounting}: binding it to a registry adds a {@link
 * CloseListener} to the accounting (once, however many registries it is bound to) and registers
 *
 * <ul>
 *   <li>{@value #OPENED} (function counter over the accounting's opened count),
 *   <li>{@value #CLOSED} (counter per {@code destination}, {@code mode}, {@code reason}),
 *   <li>{@value #FIN_WAIT} (timer of server closes' waits for the peer's FIN, per destination),
 *   <li>{@value #REQUESTS} (distribution summary of the requests a connection carried, where the
 *       adapter knows them).
 * </ul>
 *
 * <p>Every meter is tagged {@code client} (the name given here); the close meters also {@code
 * destination} ({@code host:port}), at most {@link #DEFAULT_MAX_DESTINATIONS} distinct ones (set
 * with {@link #maxDestinations}); later destinations are tagged {@value #OTHER}, and closes whose
 * destination the recording point does not know {@value #UNKNOWN_DESTINATION}. {@code mode} and
 * {@code reason} are {@link CloseEvent.Mode} and {@link CloseEvent.Reason} in lower case.
 *
 * <pre>{@code
 * TimeWaitMetrics.of("payments", TimeWaitOkHttp.accounting(client)).bindTo(registry);
 * }</pre>
 *
 * <p>Thread-safe. Immutable once built, apart from the registries it is bound to.
 */
public final class TimeWaitMetrics implements MeterBinder {
  /** Meter name: connections opened. */
  public static final String OPENED = "timewait.connections.opened";
  /** Meter name: connections closed, by mode and reason. */
  public static final String CLOSED = "timewait.connections.closed";
  /** Meter name: the waits for the server's FIN. */
  public static final String FIN_WAIT = "timewait.fin.wait";
  /** Meter name: requests per connection. */
  public static final String REQUESTS = "timewait.connection.requests";
  /** The destination tag beyond the cap. */
  public static final String OTHER = "other";
  /** The destination tag where the recording point does not know the destination. */
  public static final String UNKNOWN_DESTINATION = "unknown";
  /** Distinct destination tag values by default: 100. */
  public static final int DEFAULT_MAX_DESTINATIONS = 100;

  private final String client;
  private final CloseAccounting accounting;
  private final int maxDestinations;
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  private final ConcurrentHashMap<String, Boolean> destinations = new ConcurrentHashMap<>();
  private final CloseListener listener = this::closed;

  private TimeWaitMetrics(String client, CloseAccounting accounting, int maxDestinations) {
    this.client = client;
    this.accounting = accounting;
    this.maxDestinations = maxDestinations;
  }

  /**
   * Meters for {@code accounting}, tagged {@code client=clientName}, with at most {@link
   * #DEFAULT_MAX_DESTINATIONS} destinations.
   *
   * @param clientName the client's name, a tag value
   * @param accounting the client's accounting
   * @return the binder
   */
  public static TimeWaitMetrics of(String clientName, CloseAccounting accounting) {
    return new TimeWaitMetrics(Preconditions.checkNotNull(clientName, "clientName"),
        Preconditions.checkNotNull(accounting, "accounting"), DEFAULT_MAX_DESTINATIONS);
  }

  /**
   * A copy with another cap on distinct destination tags.
   *
   * @param max distinct destinations tagged by name, &gt; 0
   * @return the copy (unbound)
   */
  public TimeWaitMetrics maxDestinations(int max) {
    return new TimeWaitMetrics(
        client, accounting, Preconditions.checkPositive(max, "maxDestinations"));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Preconditions.checkNotNull(registry, "registry");
    FunctionCounter.builder(OPENED, accounting, a -> a.snapshot().connectionsOpened())
        .description("Connections the client opened")
        .tag("client", client)
        .register(registry);
    boolean first;
    synchronized (registries) {
      first = registries.isEmpty();
      registries.add(registry);
    }
    if (first) {
      accounting.addListener(listener);
    }
  }

  /** Stops metering closes (the meters stay in their registries). */
  public void unbind() {
    synchronized (registries) {
      registries.clear();
    }
    accounting.removeListener(listener);
  }

  private void closed(CloseEvent event) {
    String destination = destinationTag(event.destination());
    Tags where = Tags.of("client", client, "destination", destination);
    Tags closed = where.and("mode", event.mode().name().toLowerCase(Locale.ROOT),
        "reason", event.reason().name().toLowerCase(Locale.ROOT));
    for (MeterRegistry registry : registries) {
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
      if (destinations.size() < maxDestinations) {
        destinations.put(destination, Boolean.TRUE);
        return destination;
      }
    }
    return destinations.containsKey(destination) ? destination : OTHER;
  }
}
