package dev.timewait;

import dev.timewait.internal.CallbackFailures;
import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.HostPorts;
import dev.timewait.internal.Preconditions;
import dev.timewait.internal.jfr.JfrCloses;
import dev.timewait.spi.CloseOutcome;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts how one client's connections open and close. A {@link TimeWaitSocketFactory} owns one
 * and counts every socket it makes; adapters whose client makes its own sockets count through
 * {@code dev.timewait.spi} ({@code CloseOutcome.recordOn}, {@code Counting}). {@link #snapshot()}
 * gives an immutable {@link CloseStats}.
 *
 * <pre>{@code
 * CloseAccounting accounting = new CloseAccounting();
 * TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset(), accounting);
 * CloseStats stats = accounting.snapshot();
 * }</pre>
 *
 * <p>Each close is also told to the {@link CloseListener}s {@linkplain #addListener added} here
 * and, when a recording enables them, committed as the JFR events {@code
 * dev.timewait.ConnectionClosed} and {@code dev.timewait.FinWait} (docs/observability.md). With
 * neither, recording a close allocates nothing.
 *
 * <p>Thread-safe: every method may be called from any thread, without locks (adding or removing
 * a listener takes this accounting's lock). A snapshot taken while connections close may be
 * mid-update by one close.
 */
public final class CloseAccounting {
  private static final Logger log = LoggerFactory.getLogger(CloseAccounting.class);
  private static final CloseListener[] NONE = {};
  /** Whether the runtime has {@code jdk.jfr} (a jlink image may not): JFR code runs only if so. */
  private static final boolean JFR = jfrPresent();

  static {
    CoreAccess.register(new CoreAccess.Accounting() {
      @Override
      public void increment(CloseAccounting accounting, CoreAccess.Count count) {
        CloseAccounting.increment(accounting, count);
      }

      @Override
      public void closed(CloseAccounting accounting, CloseOutcome outcome,
          CloseEvent.Reason reason) {
        accounting.recordClose(outcome, reason, null, null, -1, NO_TIME, NO_TIME);
      }

      @Override
      public void closed(CloseAccounting accounting, CloseOutcome outcome,
          CloseEvent.Reason reason, java.net.InetSocketAddress remote,
          CloseStrategy.Kind strategy, long requests, long connectedAtNanos,
          long finWaitStartNanos) {
        accounting.recordClose(outcome, reason, remote, strategy, requests, connectedAtNanos,
            finWaitStartNanos);
      }

      @Override
      public void observeClosedAfterIdle(CloseAccounting accounting,
          java.net.InetSocketAddress remote, long idleNanos) {
        accounting.peerIdleTimeouts.observeClosedAfterIdle(remote, idleNanos);
      }

      @Override
      public long retireAfterIdleNanos(CloseAccounting accounting,
          java.net.InetSocketAddress remote) {
        return accounting.peerIdleTimeouts.retireAfterIdleNanos(remote);
      }
    });
  }

  /** Copy-on-write: read on every close, written only by add/removeListener. */
  private volatile CloseListener[] listeners = NONE;
  /** Listeners that threw: their first failure is logged at WARN, later ones at debug. */
  private final Set<CloseListener> failedListeners = ConcurrentHashMap.newKeySet();

  private final LongAdder opened = new LongAdder();
  private final LongAdder afterPeerFin = new LongAdder();
  private final LongAdder reset = new LongAdder();
  private final LongAdder locallyFirst = new LongAdder();
  private final LongAdder finWaitTimeouts = new LongAdder();
  private final LongAdder finWaitAborts = new LongAdder();
  private final LongAdder closedIdleByPeer = new LongAdder();
  private final LongAdder staleRetries = new LongAdder();
  private final PeerIdleTimeouts peerIdleTimeouts = new PeerIdleTimeouts();

  /** A connection connected. */
  void recordOpened() {
    opened.increment();
  }

  /** A connection closed after the peer's FIN arrived. */
  void recordClosedAfterPeerFin() {
    afterPeerFin.increment();
  }

  /** A connection closed with an RST. */
  void recordClosedByReset() {
    reset.increment();
  }

  /** A connection closed by this side first, with a FIN: it left TIME_WAIT here. */
  void recordClosedLocallyFirst() {
    locallyFirst.increment();
  }

  /** A server close gave up waiting for the FIN and reset; also call {@link #recordClosedByReset}. */
  void recordFinWaitTimeout() {
    finWaitTimeouts.increment();
  }

  /**
   * A server close's FIN wait was ended early, with an RST, by a cancel, an interrupt of the
   * waiting thread or a client's shutdown; also call {@link #recordClosedByReset}.
   */
  void recordFinWaitAbort() {
    finWaitAborts.increment();
  }

  /**
   * A pooled connection was found closed by its peer while it sat idle, before it carried another
   * request; also call {@link #recordClosedAfterPeerFin} or {@link #recordClosedByReset}.
   */
  void recordClosedIdleByPeer() {
    closedIdleByPeer.increment();
  }

  /** A request was sent again on a fresh connection after a reused one failed unanswered. */
  void recordStaleRetry() {
    staleRetries.increment();
  }

  /** Creates an accounting with every count at 0 and no listener. */
  public CloseAccounting() {}

  /**
   * Tells {@code listener} of every close recorded from now on.
   *
   * @param listener the listener
   */
  public synchronized void addListener(CloseListener listener) {
    Preconditions.checkNotNull(listener, "listener");
    CloseListener[] now = Arrays.copyOf(listeners, listeners.length + 1);
    now[now.length - 1] = listener;
    listeners = now;
  }

  /**
   * Stops telling {@code listener} (its first registration, if added more than once).
   *
   * @param listener the listener
   * @return whether it was listening
   */
  public synchronized boolean removeListener(CloseListener listener) {
    Preconditions.checkNotNull(listener, "listener");
    CloseListener[] now = listeners;
    for (int i = 0; i < now.length; i++) {
      if (now[i] == listener) {
        CloseListener[] less = new CloseListener[now.length - 1];
        System.arraycopy(now, 0, less, 0, i);
        System.arraycopy(now, i + 1, less, i, less.length - i);
        listeners = less.length == 0 ? NONE : less;
        if (!java.util.Arrays.asList(less).contains(listener)) {
          failedListeners.remove(listener); // else a removed listener that once threw stays reachable
        }
        return true;
      }
    }
    return false;
  }

  /** A {@link System#nanoTime()} not known. */
  static final long NO_TIME = CloseOutcome.NO_TIME;

  /**
   * Counts one close and tells the listeners and JFR what is known of it. Unknowns: null
   * destination and strategy, negative requests, {@link #NO_TIME} for when the connection
   * connected and when its FIN wait began (also {@code NO_TIME} without a wait). Times are taken
   * as {@code nanoTime} stamps and turned into durations only when somebody listens.
   */
  void recordClose(CloseOutcome outcome, CloseEvent.Reason reason,
      java.net.InetSocketAddress remote, CloseStrategy.Kind strategy, long requests,
      long connectedAtNanos, long finWaitStartNanos) {
    switch (outcome) {
      case AFTER_PEER_FIN:
        recordClosedAfterPeerFin();
        break;
      case LOCAL_FIRST:
        recordClosedLocallyFirst();
        break;
      case FIN_WAIT_TIMEOUT:
        recordFinWaitTimeout();
        recordClosedByReset();
        break;
      case FIN_WAIT_ABORTED:
        recordFinWaitAbort();
        recordClosedByReset();
        break;
      case RESET:
      case PEER_RESET:
      case UNREAD_DATA:
      default:
        recordClosedByReset();
        break;
    }
    CloseListener[] now = listeners;
    // EventType.isEnabled reads a flag: no allocation unless somebody listens or records.
    boolean jfrClosed = JFR && JfrCloses.closedEnabled();
    boolean jfrFinWait = JFR && finWaitStartNanos != NO_TIME && JfrCloses.finWaitEnabled();
    if (now.length == 0 && !jfrClosed && !jfrFinWait) {
      return;
    }
    long nowNanos = System.nanoTime();
    long lifetimeNanos = connectedAtNanos == NO_TIME ? -1 : nowNanos - connectedAtNanos;
    long finWaitNanos = finWaitStartNanos == NO_TIME ? 0 : Math.max(0, nowNanos - finWaitStartNanos);
    String destination = remote == null ? null : hostPort(remote);
    CloseEvent.Mode mode = mode(outcome);
    if (reason == CloseEvent.Reason.UNKNOWN) {
      // The outcome alone tells these two, whoever recorded it.
      if (outcome == CloseOutcome.FIN_WAIT_TIMEOUT) {
        reason = CloseEvent.Reason.FIN_WAIT_TIMEOUT;
      } else if (outcome == CloseOutcome.FIN_WAIT_ABORTED) {
        reason = CloseEvent.Reason.EXCHANGE_ABORTED;
      }
    }
    if (jfrClosed) {
      JfrCloses.commitClosed(destination, strategy == null ? null : strategy.id(), mode.name(),
          reason.name(), requests, lifetimeNanos, finWaitNanos);
    }
    if (jfrFinWait) {
      JfrCloses.commitFinWait(destination, mode.name(), reason.name(), finWaitNanos);
    }
    if (now.length == 0) {
      return;
    }
    CloseEvent event = new CloseEvent(
        destination, strategy, mode, reason, requests, lifetimeNanos, finWaitNanos);
    for (CloseListener listener : now) {
      try {
        listener.closed(event);
      } catch (Throwable e) { // a Kotlin (or @SneakyThrows) one may throw a checked exception too
        CallbackFailures.rethrowFatal(e);
        // A failing listener fails on every close: WARN once per listener, not once per close
        // (nor once per accounting, which would hide a second listener's failure).
        if (failedListeners.add(listener)) {
          log.warn("A CloseListener ({}) threw; the close went on, and further failures of this "
              + "listener are logged at debug", listener, e);
        } else {
          log.debug("A CloseListener ({}) threw again", listener, e);
        }
      }
    }
  }

  private static boolean jfrPresent() {
    try {
      Class.forName("jdk.jfr.EventType", false, CloseAccounting.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
    try {
      // Initialises the event types now, once: a VM built without Flight Recorder has the
      // jdk.jfr classes but throws InternalError from EventType.getEventType (JVMSupport), which
      // on the first close would have failed that close and every later one (NoClassDefFoundError).
      JfrCloses.closedEnabled();
      return true;
    } catch (InternalError | LinkageError e) {
      log.debug("JFR events off: this VM has no Flight Recorder ({})", e.toString());
      return false;
    }
  }

  private static String hostPort(java.net.InetSocketAddress remote) {
    // getHostString: never a reverse lookup.
    return HostPorts.of(remote.getHostString(), Integer.toString(remote.getPort()));
  }

  private static CloseEvent.Mode mode(CloseOutcome outcome) {
    switch (outcome) {
      case AFTER_PEER_FIN:
        return CloseEvent.Mode.AFTER_PEER_FIN;
      case LOCAL_FIRST:
        return CloseEvent.Mode.LOCALLY_FIRST;
      default:
        return CloseEvent.Mode.RESET;
    }
  }

  private static void increment(CloseAccounting accounting, CoreAccess.Count count) {
    switch (count) {
      case OPENED:
        accounting.recordOpened();
        break;
      case CLOSED_AFTER_PEER_FIN:
        accounting.recordClosedAfterPeerFin();
        break;
      case CLOSED_BY_RESET:
        accounting.recordClosedByReset();
        break;
      case CLOSED_LOCALLY_FIRST:
        accounting.recordClosedLocallyFirst();
        break;
      case FIN_WAIT_TIMEOUT:
        accounting.recordFinWaitTimeout();
        break;
      case FIN_WAIT_ABORT:
        accounting.recordFinWaitAbort();
        break;
      case CLOSED_IDLE_BY_PEER:
        accounting.recordClosedIdleByPeer();
        break;
      case STALE_RETRY:
      default:
        accounting.recordStaleRetry();
        break;
    }
  }

  /** {@return what the pooled connections counted here learned of their peers' idle timeouts} */
  public PeerIdleTimeouts peerIdleTimeouts() {
    return peerIdleTimeouts;
  }

  /** {@return the counts now} */
  public CloseStats snapshot() {
    return new CloseStats(
        opened.sum(), afterPeerFin.sum(), reset.sum(), locallyFirst.sum(), finWaitTimeouts.sum(),
        finWaitAborts.sum(), closedIdleByPeer.sum(), staleRetries.sum());
  }

  @Override
  public String toString() {
    return snapshot().toString();
  }
}
