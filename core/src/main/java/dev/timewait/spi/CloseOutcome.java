package dev.timewait.spi;

import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import java.net.InetSocketAddress;

/**
 * How one connection closed, and how that is counted: the outcomes of a close, a server close's
 * wait for the server's FIN among them, each {@linkplain #recordOn recorded} onto a {@link
 * CloseAccounting} the same way by every adapter and by the socket layer.
 *
 * <p>Thread-safe (an enum).
 */
public enum CloseOutcome {
  /** Closed with an RST ({@code SO_LINGER(0)}), without a FIN wait, or with one that had to end. */
  RESET,
  /** The server's FIN arrived first; the client's FIN followed, and the server keeps TIME_WAIT. */
  AFTER_PEER_FIN,
  /** The client sent its FIN first: TIME_WAIT stays on the client (an observing factory's close). */
  LOCAL_FIRST,
  /** The FIN wait ran out of time ({@code finWait}) and reset. */
  FIN_WAIT_TIMEOUT,
  /** The FIN wait was cut short, with an RST, by a cancel, an interrupt or a client's shutdown. */
  FIN_WAIT_ABORTED,
  /** The peer reset the connection during the FIN wait. */
  PEER_RESET,
  /** More than {@link #MAX_DRAIN_BYTES} arrived during the FIN wait instead of a FIN; reset. */
  UNREAD_DATA;

  /**
   * The most bytes a FIN wait reads (and discards) while it waits for the server's FIN: 64 KiB. A
   * completed exchange leaves at most a TLS close_notify and a few records unread; more means the
   * peer is still sending, and the wait ends with {@link #UNREAD_DATA}.
   */
  public static final int MAX_DRAIN_BYTES = NotInlined.of(64 * 1024);

  /**
   * A {@link System#nanoTime()} stamp that is not known: {@link Long#MIN_VALUE}, for {@link
   * #recordOn(CloseAccounting, CloseEvent.Reason, InetSocketAddress, CloseStrategy.Kind, long, long,
   * long)}'s connect and FIN-wait times.
   */
  public static final long NO_TIME = Long.MIN_VALUE;

  /**
   * Counts this outcome onto {@code accounting}: one close, of the kind this outcome is, plus a
   * FIN-wait timeout or abort where it is one; its listeners hear {@link CloseEvent.Reason#UNKNOWN}.
   *
   * @param accounting the client's accounting
   */
  public void recordOn(CloseAccounting accounting) {
    recordOn(accounting, CloseEvent.Reason.UNKNOWN);
  }

  /**
   * Counts this outcome onto {@code accounting}, as {@link #recordOn(CloseAccounting)}, and tells
   * its {@linkplain CloseAccounting#addListener listeners} {@code reason}. Builds nothing while
   * nobody listens.
   *
   * @param accounting the client's accounting
   * @param reason why the adapter closed the connection
   */
  public void recordOn(CloseAccounting accounting, CloseEvent.Reason reason) {
    Preconditions.checkNotNull(accounting, "accounting");
    Preconditions.checkNotNull(reason, "reason");
    CoreAccess.accounting().closed(accounting, this, reason);
  }

  /**
   * Counts this outcome onto {@code accounting}, as {@link #recordOn(CloseAccounting)}, and tells
   * its listeners and JFR everything the adapter knows of the connection: for an adapter whose
   * client makes its own connections (an event loop's channels), which no {@code
   * TimeWaitSocketFactory} records. Primitive arguments and {@code nanoTime} stamps: durations
   * are worked out, and anything built, only while somebody listens or records.
   *
   * @param accounting the client's accounting
   * @param reason why the connection closed ({@link CloseEvent.Reason#UNKNOWN} if the adapter
   *     cannot tell; a FIN wait's timeout or abort then says it itself)
   * @param remote the peer, or null if not known
   * @param strategy the client's strategy, or null if not known
   * @param requests the requests the connection carried, or -1 if not known
   * @param connectedAtNanos {@link System#nanoTime()} when the connection connected, or {@link
   *     #NO_TIME}
   * @param finWaitStartNanos {@link System#nanoTime()} when its FIN wait began, or {@link #NO_TIME}
   *     without one
   */
  public void recordOn(CloseAccounting accounting, CloseEvent.Reason reason,
      InetSocketAddress remote, CloseStrategy.Kind strategy, long requests, long connectedAtNanos,
      long finWaitStartNanos) {
    Preconditions.checkNotNull(accounting, "accounting");
    Preconditions.checkNotNull(reason, "reason");
    CoreAccess.accounting().closed(accounting, this, reason, remote, strategy, requests,
        connectedAtNanos, finWaitStartNanos);
  }
}
