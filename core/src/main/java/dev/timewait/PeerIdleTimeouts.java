package dev.timewait;

import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What pooled keep-alive learned of each destination's idle timeout when the destination does not
 * announce it (nginx, HAProxy and cloud load balancers never send {@code Keep-Alive: timeout=N}):
 * the shortest idle time after which the peer was seen to have closed a pooled connection. From
 * then on the pool retires that destination's connections once they have been idle for {@link
 * #retireAfterIdle} (the learned time less a margin), before the peer closes them, so a request
 * never races the peer's close at the edge of its timeout.
 *
 * <p>An observation is a pooled connection found closed by its peer while it sat idle: by the
 * reuse check of the socket layer (the idle time until the check, an upper bound of the peer's
 * timeout that tightens with every observation) or by the async client's reactor, which sees the
 * peer's FIN as it comes. Closes within {@link #MIN_LEARNED} of the last response are not idle
 * timeouts (a server ending the exchange) and are ignored. A destination is an IP address and
 * port; about {@link #MAX_DESTINATIONS} are kept, those observed most recently: once the table
 * is full, a destination learned anew takes the place of the one observed least recently (a
 * client that calls thousands of hosts still learns the load balancer it meets later, and keeps
 * it while it is seen again; threads racing at the edge may keep a few more). What is learned
 * stays until then, for the life of the {@link CloseAccounting} that holds it; a peer whose timeout
 * grows keeps being retired early, which costs a reconnect, never a request.
 *
 * <p>Thread-safe: observations and reads may come from any thread.
 */
public final class PeerIdleTimeouts {
  private static final Logger log = LoggerFactory.getLogger(PeerIdleTimeouts.class);

  /**
   * The shortest idle timeout learned, and the earliest retirement: 100 ms. A close sooner after a
   * response is the server ending the exchange, not an idle timeout.
   */
  public static final Duration MIN_LEARNED = Duration.ofMillis(100);
  /** The most destinations remembered: 1,024. */
  public static final int MAX_DESTINATIONS = NotInlined.of(1024);
  /** The largest margin kept before a learned timeout: 1 s, as for an announced one. */
  private static final long MAX_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long MIN_LEARNED_NANOS = MIN_LEARNED.toNanos();

  private final Map<InetSocketAddress, Long> shortest = new ConcurrentHashMap<>();
  /** The destinations, least recently observed first: which one a new one replaces. */
  private final java.util.Queue<InetSocketAddress> order = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** No observations yet: each {@link CloseAccounting} makes its own. */
  PeerIdleTimeouts() {}

  /**
   * The peer at {@code remote} was seen to have closed a pooled connection that had been idle for
   * {@code idleNanos} since its last exchange. Adapters reach it through {@code spi.PeerIdle}.
   */
  void observeClosedAfterIdle(InetSocketAddress remote, long idleNanos) {
    Preconditions.checkNotNull(remote, "remote");
    if (idleNanos < MIN_LEARNED_NANOS) {
      return;
    }
    // One observation at a time: two of one destination at once would each remove it from the
    // order and each add it, and the copy left behind would later evict it though just observed.
    // Reads (retireAfterIdleNanos, per request) take no lock.
    synchronized (order) {
      observe(remote, idleNanos);
    }
  }

  private void observe(InetSocketAddress remote, long idleNanos) {
    Long before = shortest.get(remote);
    // Bounded: a new destination takes the place of the one observed least recently, so a load
    // balancer seen again and again stays while one-off hosts come and go. Observations are rare
    // (a peer's close of an idle connection): the queue's linear remove costs nothing per request.
    order.remove(remote);
    if (before == null) {
      while (shortest.size() >= MAX_DESTINATIONS) {
        InetSocketAddress first = order.poll();
        if (first == null) {
          break;
        }
        shortest.remove(first);
      }
    }
    order.add(remote);
    Long now = shortest.merge(remote, idleNanos, Math::min);
    if ((before == null || now < before) && log.isDebugEnabled()) {
      log.debug("{} closes idle connections after at most {} ms; retiring them after {} ms idle",
          remote, TimeUnit.NANOSECONDS.toMillis(now), TimeUnit.NANOSECONDS.toMillis(retireAfterIdleNanos(remote)));
    }
  }

  /**
   * How long a pooled connection to {@code remote} may sit idle before it retires, in nanoseconds:
   * the learned time less a fifth of it, at most 1 s, and never under {@link #MIN_LEARNED}; -1
   * where nothing was learned. Adapters reach it through {@code spi.PeerIdle}.
   */
  long retireAfterIdleNanos(InetSocketAddress remote) {
    Long learned = remote == null ? null : shortest.get(remote);
    if (learned == null) {
      return -1;
    }
    long margin = Math.min(MAX_MARGIN_NANOS, learned / 5);
    return Math.max(MIN_LEARNED_NANOS, learned - margin);
  }

  /**
   * {@return the idle time after which connections to {@code remote} retire, or empty where
   * nothing was learned}
   *
   * @param remote the peer's address and port
   */
  public java.util.Optional<Duration> retireAfterIdle(InetSocketAddress remote) {
    long nanos = retireAfterIdleNanos(remote);
    return nanos < 0 ? java.util.Optional.empty() : java.util.Optional.of(Duration.ofNanos(nanos));
  }

  /**
   * {@return per destination, the shortest idle time after which its peer was seen to have closed
   * a pooled connection: an upper bound of the peer's idle timeout} A copy.
   */
  public Map<InetSocketAddress, Duration> learned() {
    Map<InetSocketAddress, Duration> copy = new LinkedHashMap<>();
    shortest.forEach((remote, nanos) -> copy.put(remote, Duration.ofNanos(nanos)));
    return Collections.unmodifiableMap(copy);
  }

  @Override
  public String toString() {
    return "PeerIdleTimeouts" + learned();
  }
}
