package dev.timewait.reactornetty;

import io.netty.channel.Channel;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Schedulers;
import reactor.netty.resources.ConnectionProvider;

/**
 * Disposes the pool of a pooled provider's remote address once the address has had no
 * connection for the idle timeout, checked every idle timeout, so that a client calling many
 * hosts (webhooks) keeps neither a pool nor its background eviction task for every host it ever
 * called; a later call makes a new pool.
 *
 * <p>Why not Reactor Netty's own {@code disposeInactivePoolsInBackground}: its task reschedules
 * itself after every run and keeps no handle to cancel it, so a provider made with it is never
 * collected (read in 1.3.7's source; reactor-netty issues #2759 and #4299); and it disposes a pool
 * while a request may be between Reactor Netty's lookup of the pool and its acquire, which then
 * fails ("Pool has been shut down") or, in reactor-pool's own window, never ends (measured,
 * docs/reactor-netty.md). This one holds the provider weakly, ends when the provider has been
 * collected, and {@link TimeWaitReactorNetty#shutdown} cancels it; and a disposal never overlaps
 * a configured client's subscription ({@link #enter}), inside which Reactor Netty looks the pool
 * up and asks it for a connection. A new connection is counted only at its channel's init, on its
 * event loop, a moment after that: so a run that finds an address quiet condemns it, and only the
 * next run (an idle timeout later) disposes its pool, if no channel came for it meanwhile. A pool
 * goes between two and three idle timeouts after its last connection closed.
 *
 * <p>An address has a connection from the channel's init (before it connects) to its close. Its
 * key is {@link ConnectionProvider#disposeWhen}'s comparison: the host string, whose case Reactor
 * Netty ignores for an unresolved address, and the port; a resolved address also matches every
 * other with its IP and port, so one is not disposed while another such has connections. A
 * wildcard address ({@code 0.0.0.0}, which {@code disposeWhen} matches to every pool on its port)
 * is not tracked, and its pool stays.
 *
 * <p>Thread-safe: counts change on the channels' event loops inside the map's atomic {@code
 * compute}, and the sweep runs on Reactor's parallel scheduler, one run at a time.
 */
final class PoolSweep implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PoolSweep.class);

  /** Tries for a moment between subscriptions before a disposal waits for the next run. */
  private static final int GATE_TRIES = 10_000;
  /** {@link #disposedRecently}'s bound. */
  private static final long RECENT_DISPOSAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final WeakReference<ConnectionProvider> provider;
  private final String name;
  private final long idleNanos;
  private final long periodMillis;
  private final Map<String, Destination> destinations = new ConcurrentHashMap<>();
  /**
   * Subscriptions hold it to read (for microseconds), a disposal to write. The sweep only ever
   * tries for it (it never waits in the lock's queue), so a subscription waits at most for a
   * disposal under way, and one nested in another's (a retry of the caller's on a synchronous
   * error) cannot deadlock; on the disposing thread itself a subscription does not wait ({@link
   * #enter}).
   */
  private final StampedLock gate = new StampedLock();
  private final Object running = new Object();
  /** The thread that holds the gate to dispose, or null. */
  private volatile Thread disposer;
  /** The periodic run, while some address is tracked; guarded by this. */
  private Disposable task;
  /** When this sweep last disposed a pool ({@link System#nanoTime()}), or 0 before. */
  private volatile long lastDisposalNanos;

  PoolSweep(ConnectionProvider provider, Duration idleTimeout) {
    this.provider = new WeakReference<>(provider);
    this.name = provider.name();
    this.idleNanos = idleTimeout.toNanos();
    this.periodMillis = Math.max(1, idleTimeout.toMillis());
  }

  /**
   * Counts {@code channel}, made for {@code remote}'s pool, until it closes; the first of an
   * address starts the sweep if it is not running. The channel's event loop.
   */
  void opened(SocketAddress remote, Channel channel) {
    if (isWildcard(remote)) {
      return;
    }
    String key = key(remote);
    Destination[] counted = new Destination[1];
    boolean[] added = new boolean[1];
    destinations.compute(key, (k, d) -> {
      Destination destination = d;
      if (destination == null) {
        destination = new Destination(remote);
        added[0] = true;
      }
      destination.condemned = false;
      destination.open++;
      counted[0] = destination;
      return destination;
    });
    Destination mine = counted[0];
    // Only the entry this channel was counted in: cancel() forgets every entry, and a later one
    // for the address counts only later channels.
    channel.closeFuture().addListener(f -> destinations.computeIfPresent(key, (k, d) -> {
      if (d == mine && d.open > 0) {
        d.open--;
        d.quietSince = System.nanoTime();
      }
      return d;
    }));
    if (added[0]) {
      start(); // the sweep stops only once no address is left
    }
  }

  private synchronized void start() {
    if (task != null) {
      return;
    }
    try {
      task = Schedulers.parallel().schedulePeriodically(this, periodMillis, periodMillis,
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException rejected) {
      // Reactor's parallel scheduler was shut down (Schedulers.shutdownNow): no sweep, and pools
      // stay until the provider is disposed, as without one.
      log.debug("{}'s pool sweep cannot start: {}", name, rejected.toString());
    }
  }

  /**
   * Enters a configured client's subscription, inside which Reactor Netty looks a pool up and
   * asks it for a connection: no disposal starts until {@link #exit}, and one under way ends
   * first. On the thread of a disposal under way (a caller's retry of an acquire that the
   * disposal failed, run inside it) it does not wait: the disposed pool has left Reactor Netty's
   * map, so that acquire makes a new one.
   *
   * @return the stamp to exit with; 0 where nothing was held
   */
  long enter() {
    if (disposer == Thread.currentThread()) {
      return 0;
    }
    return gate.readLock();
  }

  /**
   * Whether this sweep disposed a pool within the last second: an acquire that failed with "Pool
   * has been shut down" then was pending in it (its borrowers fail as it is disposed), not in a
   * pool the user disposed with the provider.
   */
  boolean disposedRecently() {
    long last = lastDisposalNanos;
    return last != 0 && System.nanoTime() - last < RECENT_DISPOSAL_NANOS;
  }

  /** A pool is being disposed now. */
  void noteDisposal() {
    lastDisposalNanos = System.nanoTime();
  }

  /** Leaves what {@link #enter} held. */
  void exit(long stamp) {
    if (stamp != 0) {
      gate.unlockRead(stamp);
    }
  }

  /**
   * Stops the sweep and forgets every address: the provider is being disposed, with all its
   * pools. A later connection starts it again (a provider disposed goes on serving). Idempotent.
   */
  synchronized void cancel() {
    destinations.clear();
    stop();
  }

  /** Guarded by this. */
  private void stop() {
    if (task != null) {
      task.dispose();
      task = null;
    }
  }

  @Override
  public void run() {
    runAt(System.nanoTime());
  }

  /** A run as if the clock read {@code now}: for tests, which cannot wait out an idle timeout. */
  void runAt(long now) {
    synchronized (running) {
      sweep(now);
    }
  }

  private void sweep(long now) {
    ConnectionProvider p = provider.get();
    if (p == null) {
      cancel(); // collected, with its pools
      return;
    }
    List<Map.Entry<String, Destination>> due = new ArrayList<>();
    for (Map.Entry<String, Destination> e : destinations.entrySet()) {
      Destination d = e.getValue();
      if (!isQuiet(d, now)) {
        continue;
      }
      if (!d.condemned) {
        // First run that finds it quiet: a run's grace before the disposal, for a request that
        // asked the pool for a new connection whose channel is not initialised (counted) yet;
        // its init un-condemns the address.
        destinations.computeIfPresent(e.getKey(), (k, current) -> {
          if (current == d && isQuiet(current, now)) {
            current.condemnedAt = now;
            current.condemned = true;
          }
          return current;
        });
      } else if (now - d.condemnedAt >= idleNanos) {
        due.add(e);
      }
    }
    for (Map.Entry<String, Destination> e : due) {
      Destination d = e.getValue();
      long stamp = tryGate();
      if (stamp == 0) {
        break; // acquires under way all along: the next run tries again
      }
      disposer = Thread.currentThread();
      try {
        // Under the gate: no subscription is between its pool lookup and its acquire; an acquire
        // since the condemnation has initialised its channel within the grace (un-condemned).
        boolean[] removed = new boolean[1];
        destinations.computeIfPresent(e.getKey(), (k, current) -> {
          if (current == d && current.condemned && isQuiet(current, now)
              && !sharesBusyAddress(current, now)) {
            removed[0] = true;
            return null;
          }
          return current;
        });
        if (removed[0]) {
          noteDisposal(); // before the pending acquires fail
          p.disposeWhen(d.address);
          log.debug("disposed {}'s pool for {}: no connection in two runs {} ms apart", name,
              d.address, TimeUnit.NANOSECONDS.toMillis(idleNanos));
        }
      } catch (RuntimeException failed) {
        log.debug("disposing {}'s pool for {} failed: {}", name, d.address, failed.toString());
      } finally {
        disposer = null;
        gate.unlockWrite(stamp);
      }
    }
    synchronized (this) {
      // An address added after this check starts the sweep again (start() reads task under this).
      if (destinations.isEmpty()) {
        stop();
      }
    }
  }

  /**
   * Whether {@code d}'s address is resolved and another address with its IP and port (which
   * {@code disposeWhen} matches by {@code equals}) is not quiet.
   */
  private boolean sharesBusyAddress(Destination d, long now) {
    InetSocketAddress ip = resolved(d.address);
    if (ip == null) {
      return false;
    }
    for (Destination other : destinations.values()) {
      if (other != d && ip.equals(resolved(other.address)) && !isQuiet(other, now)) {
        return true;
      }
    }
    return false;
  }

  private boolean isQuiet(Destination d, long now) {
    return d.open == 0 && now - d.quietSince >= idleNanos;
  }

  /** The write side of the gate, tried for a moment: subscriptions hold it for microseconds. */
  private long tryGate() {
    for (int i = 0; i < GATE_TRIES; i++) {
      long stamp = gate.tryWriteLock();
      if (stamp != 0) {
        return stamp;
      }
      Thread.onSpinWait();
    }
    return 0;
  }

  /**
   * {@link ConnectionProvider#disposeWhen}'s comparison for the address's own kind: host string and
   * port (an unresolved address's {@code equals} ignores the host's case).
   */
  private static String key(SocketAddress remote) {
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress inet = (InetSocketAddress) remote;
      return inet.getHostString().toLowerCase(Locale.ROOT) + ':' + inet.getPort();
    }
    return remote.toString();
  }

  /** The address if it is resolved (its {@code equals} and hash: IP and port only), or null. */
  private static InetSocketAddress resolved(SocketAddress address) {
    if (address instanceof InetSocketAddress && !((InetSocketAddress) address).isUnresolved()) {
      return (InetSocketAddress) address;
    }
    return null;
  }

  private static boolean isWildcard(SocketAddress address) {
    if (!(address instanceof InetSocketAddress)) {
      return false;
    }
    InetAddress ip = ((InetSocketAddress) address).getAddress();
    return ip != null && ip.isAnyLocalAddress();
  }

  /** One address's count of open connections, and since when it has had none. */
  private static final class Destination {
    final SocketAddress address;
    // Changed inside the map's compute for this address; read by the sweep for others.
    volatile int open;
    volatile long quietSince;
    /** Found quiet by a run, at {@link #condemnedAt}: the next run disposes unless a channel came. */
    volatile boolean condemned;
    volatile long condemnedAt;

    Destination(SocketAddress address) {
      this.address = address;
    }
  }
}
