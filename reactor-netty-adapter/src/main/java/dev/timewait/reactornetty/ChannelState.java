package dev.timewait.reactornetty;

import dev.timewait.CloseEvent;
import dev.timewait.spi.CloseOutcome;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * What the adapter knows of one channel (one TCP connection): its requests, where its current
 * exchange stands, and how it is closing. The pipeline's handlers share it, the exchange's
 * attempt and the client's open channels hold it, and under pooled keep-alive it is a channel
 * attribute too, for the pool's eviction predicate.
 *
 * <p>Confined to the channel's event loop, except the fields marked volatile, which the pool's
 * eviction predicate and the unanswered retry may read from other threads.
 */
final class ChannelState {
  static final AttributeKey<ChannelState> KEY = AttributeKey.valueOf("timewait.channelState");

  final Connections connections;
  final long bornNanos = System.nanoTime();
  /** The peer's address, once connected; read by the pool's eviction predicate too. */
  volatile InetSocketAddress remote;
  boolean opened;
  boolean recorded;
  /** SO_LINGER(0) is set on the socket: from the channel's init until a graceful close lifts it. */
  boolean lingerZero;

  /** Requests written on this connection so far, the current one included. */
  volatile int requests;
  /** The current request is the connection's last (ConnectionRules.isLast). */
  boolean last;
  /** The current request's Connection header, as it went out. */
  String requestConnection;
  /** The request was written to the end (its last content's write succeeded). */
  boolean requestWritten;
  /** The response was read to the end (its last content arrived). */
  boolean responseComplete;
  /**
   * The response's body ends with the connection (neither Content-Length nor chunked): the peer's
   * FIN completes it.
   */
  boolean closeDelimited;
  /** An exchange is under way: from the request's head until the response's end. */
  volatile boolean inExchange;
  /** The exchange ends the connection by agreement (either side said close). */
  boolean endsByAgreement;
  /** When the last exchange ended (System.nanoTime()), or 0. */
  volatile long lastExchangeEndNanos;
  /** The connection may not carry another request. */
  volatile boolean retire;
  /** Announced idle time after which the connection retires (nanoseconds), or -1. */
  volatile long retireAfterIdleNanos = -1;
  /** HTTP bytes (after TLS) read so far: a failed exchange read none of its response if unchanged. */
  volatile long bytesRead;
  /** {@link #bytesRead} as the exchange under way wrote its request head. */
  long bytesReadAtRequest;

  /** The peer's FIN arrived. */
  boolean peerFin;
  /**
   * The pool's eviction found the peer's FIN or RST in the kernel before the event loop read it
   * ({@link KernelPeerClose}); set on the acquiring thread before the pool closes the channel.
   */
  volatile boolean peerCloseInKernel;
  /**
   * A request was about to go out when the kernel was found to hold the peer's FIN or RST: none of
   * it was written, and the channel closed. Read by the exchange's attempt, which may send it again.
   */
  volatile boolean requestNotSent;
  /** The peer's TLS close_notify arrived. */
  boolean peerCloseNotify;
  /** A close on the peer's close_notify, during an exchange, is held until the exchange ends. */
  boolean closeDeferred;
  /** The request's method, for the unanswered retry. */
  volatile String method;
  /** Counted as closed idle by its peer already. */
  boolean closedIdleByPeerNoted;
  /** The next LastHttpContent ends an informational (1xx) response, not the exchange. */
  boolean informational;
  /** An I/O error (a reset by the peer, most often) arrived. */
  boolean ioError;
  /**
   * Why the connection ends, once decided (its last request's reason, the peer's announcement,
   * the peer's close while idle); the first reason stands. Null before.
   */
  volatile CloseEvent.Reason retireReason;
  /** When the FIN wait began (System.nanoTime()), or {@link CloseOutcome#NO_TIME}. */
  long finWaitStartNanos = CloseOutcome.NO_TIME;
  /** How the close ended, once decided. */
  CloseOutcome outcome;
  /** The FIN wait under way, or null. */
  FinWait finWait;

  ChannelState(Connections connections) {
    this.connections = connections;
  }

  /** The channel's state, under pooled keep-alive ({@link Connections#stateAttribute}); else null. */
  static ChannelState of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /** The exchange is complete: the whole request written and the whole response read. */
  boolean exchangeComplete() {
    return requestWritten && responseComplete;
  }

  /** Sets why the connection ends, unless a reason was set before. */
  void retire(CloseEvent.Reason reason) {
    if (retireReason == null) {
      retireReason = reason;
    }
  }

  /** Idle in the pool: it carried an exchange and none is under way. */
  boolean idle() {
    return requests > 0 && !inExchange;
  }
}
