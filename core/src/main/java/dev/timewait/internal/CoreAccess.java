package dev.timewait.internal;

import dev.timewait.CloseAccounting;
import dev.timewait.spi.ResponseMark;
import dev.timewait.TimeWaitSocketFactory;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.function.BooleanSupplier;

/**
 * How {@code dev.timewait.spi} reaches the package-private adapter operations of {@link
 * CloseAccounting} and {@link TimeWaitSocketFactory}, which must not be public API. Each of the
 * two classes registers its implementation here when it initialises (an adapter always holds an
 * instance, so it has). Not for use outside the timewait modules. Thread-safe: set once, read
 * through a volatile.
 */
public final class CoreAccess {
  /** The counters an adapter increments beyond a close's {@code CloseOutcome}. */
  public enum Count {
    OPENED, CLOSED_AFTER_PEER_FIN, CLOSED_BY_RESET, CLOSED_LOCALLY_FIRST, FIN_WAIT_TIMEOUT,
    FIN_WAIT_ABORT, CLOSED_IDLE_BY_PEER, STALE_RETRY
  }

  /** Implemented by {@link CloseAccounting}. */
  public interface Accounting {
    /**
     * Increments {@code count} on {@code accounting}.
     *
     * @param accounting the accounting
     * @param count the counter
     */
    void increment(CloseAccounting accounting, Count count);

    /**
     * Counts one close of {@code outcome} on {@code accounting} and tells its listeners and JFR,
     * with {@code reason} and nothing else known.
     *
     * @param accounting the accounting
     * @param outcome how it closed
     * @param reason why
     */
    void closed(CloseAccounting accounting, dev.timewait.spi.CloseOutcome outcome,
        dev.timewait.CloseEvent.Reason reason);

    /**
     * Counts one close of {@code outcome} on {@code accounting} and tells its listeners and JFR
     * what the adapter knows; see {@code CloseOutcome.recordOn}.
     *
     * @param accounting the accounting
     * @param outcome how it closed
     * @param reason why
     * @param remote the peer, or null
     * @param strategy the strategy, or null
     * @param requests requests carried, or -1
     * @param connectedAtNanos nanoTime at connect, or {@code CloseOutcome.NO_TIME}
     * @param finWaitStartNanos nanoTime at the FIN wait's start, or {@code CloseOutcome.NO_TIME}
     */
    void closed(CloseAccounting accounting, dev.timewait.spi.CloseOutcome outcome,
        dev.timewait.CloseEvent.Reason reason, java.net.InetSocketAddress remote,
        dev.timewait.CloseStrategy.Kind strategy, long requests, long connectedAtNanos,
        long finWaitStartNanos);

    /** @see dev.timewait.spi.PeerIdle#observeClosedAfterIdle */
    void observeClosedAfterIdle(CloseAccounting accounting, java.net.InetSocketAddress remote,
        long idleNanos);

    /** @see dev.timewait.spi.PeerIdle#retireAfterIdleNanos */
    long retireAfterIdleNanos(CloseAccounting accounting, java.net.InetSocketAddress remote);
  }

  /** Implemented by {@link TimeWaitSocketFactory}; see {@code dev.timewait.spi.SocketControl}. */
  public interface Sockets {
    /** @see dev.timewait.spi.SocketControl#arm(TimeWaitSocketFactory, Socket) */
    boolean arm(TimeWaitSocketFactory factory, Socket socket);

    /** @see dev.timewait.spi.SocketControl#arm(TimeWaitSocketFactory, Socket, BooleanSupplier) */
    boolean arm(TimeWaitSocketFactory factory, Socket socket, BooleanSupplier abortWhen);

    /** @see dev.timewait.spi.SocketControl#arm(TimeWaitSocketFactory, SocketAddress, SocketAddress, BooleanSupplier) */
    boolean arm(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote,
        BooleanSupplier abortWhen);

    /** @see dev.timewait.spi.SocketControl#owns */
    boolean owns(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote);

    /** @see dev.timewait.spi.SocketControl#ageNanos */
    long ageNanos(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote);

    /** @see dev.timewait.spi.SocketControl#retireWhenIdle */
    boolean retireWhenIdle(TimeWaitSocketFactory factory, Socket socket, long afterIdleNanos);

    /** @see dev.timewait.spi.SocketControl#markResponse */
    ResponseMark markResponse(TimeWaitSocketFactory factory, Socket socket);

    /** @see dev.timewait.spi.SocketControl#abortFinWait */
    boolean abortFinWait(TimeWaitSocketFactory factory, Socket socket);

    /** @see dev.timewait.spi.SocketControl#noteRequest */
    long noteRequest(TimeWaitSocketFactory factory, Socket socket, long requestsIncludingThis);

    /** @see dev.timewait.spi.SocketControl#retire */
    boolean retire(TimeWaitSocketFactory factory, Socket socket, dev.timewait.CloseEvent.Reason reason);

    /** @see dev.timewait.spi.SocketControl#clientShuttingDown */
    void clientShuttingDown(TimeWaitSocketFactory factory);
  }

  private static volatile Accounting accounting;
  private static volatile Sockets sockets;

  private CoreAccess() {}

  /**
   * Registers {@link CloseAccounting}'s side; once.
   *
   * @param access the implementation
   */
  public static void register(Accounting access) {
    if (accounting != null) {
      throw new IllegalStateException("accounting access already registered");
    }
    accounting = access;
  }

  /**
   * Registers {@link TimeWaitSocketFactory}'s side; once.
   *
   * @param access the implementation
   */
  public static void register(Sockets access) {
    if (sockets != null) {
      throw new IllegalStateException("socket access already registered");
    }
    sockets = access;
  }

  /** {@return the accounting side} */
  public static Accounting accounting() {
    Accounting a = accounting;
    if (a == null) {
      initialise(CloseAccounting.class);
      a = accounting;
    }
    return a;
  }

  /** {@return the socket side} */
  public static Sockets sockets() {
    Sockets s = sockets;
    if (s == null) {
      initialise(TimeWaitSocketFactory.class);
      s = sockets;
    }
    return s;
  }

  private static void initialise(Class<?> type) {
    try {
      Class.forName(type.getName(), true, type.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
  }
}
