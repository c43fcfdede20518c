package dev.timewait.internal.jfr;

import jdk.jfr.EventType;

/**
 * Whether a recording enables timewait's JFR events. The only class besides the events that
 * touches {@code jdk.jfr}, and loaded only where {@code jdk.jfr} is present: a runtime image made
 * with {@code jlink} may leave that module out, and core must then still load. Thread-safe.
 */
public final class JfrCloses {
  private static final EventType CLOSED = EventType.getEventType(ConnectionClosedEvent.class);
  private static final EventType FIN_WAIT = EventType.getEventType(FinWaitEvent.class);

  private JfrCloses() {}

  /** {@return whether a recording enables {@code dev.timewait.ConnectionClosed}; reads a flag} */
  public static boolean closedEnabled() {
    return CLOSED.isEnabled();
  }

  /** {@return whether a recording enables {@code dev.timewait.FinWait}; reads a flag} */
  public static boolean finWaitEnabled() {
    return FIN_WAIT.isEnabled();
  }

  /** Commits a {@code dev.timewait.ConnectionClosed}; call only if {@link #closedEnabled()}. */
  public static void commitClosed(String destination, String strategy, String mode, String reason,
      long requests, long lifetimeNanos, long finWaitNanos) {
    ConnectionClosedEvent e = new ConnectionClosedEvent();
    e.destination = destination;
    e.strategy = strategy;
    e.mode = mode;
    e.reason = reason;
    e.requests = requests;
    e.lifetime = lifetimeNanos;
    e.finWait = finWaitNanos;
    e.commit();
  }

  /** Commits a {@code dev.timewait.FinWait}; call only if {@link #finWaitEnabled()}. */
  public static void commitFinWait(String destination, String mode, String reason,
      long waitedNanos) {
    FinWaitEvent e = new FinWaitEvent();
    e.destination = destination;
    e.mode = mode;
    e.reason = reason;
    e.waited = waitedNanos;
    e.commit();
  }
}
