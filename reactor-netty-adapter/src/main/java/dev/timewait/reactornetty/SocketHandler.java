package dev.timewait.reactornetty;

import dev.timewait.CloseEvent;
import dev.timewait.spi.CloseOutcome;
import dev.timewait.spi.CloseReasons;
import dev.timewait.spi.Counting;
import dev.timewait.spi.PeerIdle;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The first handler of a configured channel's pipeline, next to the socket: every close that goes
 * through the pipeline (Reactor Netty's, the pool's, and the {@code SslHandler}'s after its
 * close_notify) passes here, and here it is decided how the socket closes:
 *
 * <ul>
 *   <li>after the peer's FIN (the channel allows half closure, so the FIN arrives here as an event
 *       instead of Netty's own close), under server-close retirement: a plain close, so the peer
 *       keeps the TIME_WAIT (under reset retirement an RST, so that nobody does: every last
 *       request asks the server to close, so its FIN often comes first);
 *   <li>an exchange that ended the connection by agreement, completed, under server-close
 *       retirement: a {@link FinWait};
 *   <li>anything else: {@code SO_LINGER(0)} on the live channel, then the close: an RST.
 * </ul>
 *
 * <p>The channel starts with {@code SO_LINGER(0)}, set as it is initialised, so a close that
 * bypasses the pipeline (Netty's own, after an I/O error) resets too. How each channel ended is
 * counted once, when it goes inactive. One instance per channel; confined to its event loop.
 */
final class SocketHandler extends ChannelDuplexHandler {
  static final String NAME = "timewait.socket";

  private final ChannelState state;
  /** Counts the bytes read as the HTTP bytes received: there is no TLS between here and the codec. */
  private boolean countResponseBytes;

  SocketHandler(ChannelState state) {
    this.state = state;
  }

  /**
   * Not sharable (one instance per channel), said without Netty's lookup: {@code
   * ChannelHandlerAdapter.isSharable()} reads the answer from a thread-local {@code WeakHashMap}
   * keyed by class each time the handler is added to a pipeline, once per connection here.
   */
  @Override
  public boolean isSharable() {
    return false;
  }

  /** Counts what this handler reads as the HTTP bytes received ({@link ResponseBytes} without TLS). */
  void countResponseBytes() {
    countResponseBytes = true;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    state.opened = true;
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress) {
      state.remote = (InetSocketAddress) ctx.channel().remoteAddress();
    }
    state.connections.open.put(ctx.channel(), state);
    Counting.opened(state.connections.accounting);
    if (state.connections.isShutDown()) {
      ctx.channel().close(); // connected as the client shut down: reset
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    int bytes = msg instanceof ByteBuf ? ((ByteBuf) msg).readableBytes()
        : msg instanceof ByteBufHolder ? ((ByteBufHolder) msg).content().readableBytes() : 0;
    FinWait wait = state.finWait;
    if (wait != null) {
      ReferenceCountUtil.release(msg); // the exchange is over: what comes now is discarded
      wait.drained(bytes);
      return;
    }
    if (countResponseBytes) {
      state.bytesRead += bytes;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof ChannelInputShutdownEvent) {
      peerClosed(ctx);
      return; // this close stands for the FIN: the codec learns of the end from channelInactive
    }
    if (evt instanceof ChannelInputShutdownReadComplete) {
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (cause instanceof IOException) {
      state.ioError = true; // most often "Connection reset by peer"
      FinWait wait = state.finWait;
      if (wait != null) {
        wait.end(CloseOutcome.PEER_RESET);
        return; // the exchange is over; nobody upstream waits for this connection
      }
    }
    super.exceptionCaught(ctx, cause);
  }

  /**
   * The peer's FIN (or, after an I/O error, its RST) arrived. Netty, allowing half closure,
   * leaves the channel open (after a read's I/O error too: it fires the error, then this event);
   * it closes here, plainly after a FIN.
   */
  private void peerClosed(ChannelHandlerContext ctx) {
    if (state.ioError) {
      FinWait wait = state.finWait;
      if (wait != null) {
        wait.end(CloseOutcome.PEER_RESET);
      } else if (state.outcome == null) {
        // An RST on an idle pooled connection is the peer's idle close too (a balancer set to
        // reset idle connections), as core's socket counts one its reuse check reads: counted,
        // its idle time learned (before, EXCHANGE_ABORTED here, and nothing learned).
        noteIdleCloseByPeer();
        state.outcome = CloseOutcome.PEER_RESET;
        ctx.close();
      }
      return;
    }
    state.peerFin = true;
    FinWait wait = state.finWait;
    if (wait != null) {
      wait.end(CloseOutcome.AFTER_PEER_FIN);
      return;
    }
    noteIdleCloseByPeer();
    if (state.outcome == null && ctx.channel().isActive()) {
      closeAfterPeerFin(ctx, ctx.newPromise());
    }
  }

  /**
   * Closes a channel whose peer's FIN arrived: plainly under server-close retirement (the peer,
   * which closed first, keeps the TIME_WAIT), with an RST under reset retirement, whose promise
   * is that nobody keeps one (the RST ends the peer's socket in FIN_WAIT).
   */
  private void closeAfterPeerFin(ChannelHandlerContext ctx, ChannelPromise promise) {
    boolean graceful = state.connections.serverCloseRetirement;
    state.outcome = graceful ? CloseOutcome.AFTER_PEER_FIN : CloseOutcome.RESET;
    closeWith(ctx, state, graceful, promise);
  }

  /**
   * A pooled connection whose peer closed it while it sat idle (its FIN or its TLS close_notify):
   * counted, and the idle time taught to the accounting's {@code PeerIdleTimeouts}.
   */
  void noteIdleCloseByPeer() {
    if (state.closedIdleByPeerNoted || !state.connections.rules.keepAlive() || !state.idle()
        || state.retire || state.endsByAgreement) {
      return;
    }
    state.closedIdleByPeerNoted = true;
    state.retire(CloseEvent.Reason.PEER_CLOSED_IDLE);
    Counting.closedIdleByPeer(state.connections.accounting);
    long end = state.lastExchangeEndNanos;
    if (state.remote != null && end != 0) {
      PeerIdle.observeClosedAfterIdle(
          state.connections.accounting, state.remote, System.nanoTime() - end);
    }
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
    if (state.finWait != null) {
      // Closed again while the FIN wait holds the first close: done when the channel is closed.
      ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
      return;
    }
    if (!ctx.channel().isActive() || state.outcome != null) {
      ctx.close(promise);
      return;
    }
    if (state.peerCloseNotify && state.inExchange) {
      // Reactor Netty closes on the peer's close_notify at once, while the SslHandler may have
      // yet to pass on the plaintext before it (the end of the response). Hold this close: the
      // end of the exchange brings Reactor Netty's own close, the peer's FIN a plain one, and
      // otherwise the FIN-wait bound decides.
      ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
      if (!state.closeDeferred) {
        state.closeDeferred = true;
        io.netty.util.concurrent.ScheduledFuture<?> bound = ctx.executor().schedule(() -> {
          if (ctx.channel().isActive() && state.outcome == null && state.finWait == null) {
            state.outcome = CloseOutcome.RESET;
            closeWith(ctx, state, false, ctx.newPromise());
          }
        }, state.connections.finWaitNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        // Cancelled once the channel is closed: a task left to its time kept the channel and its
        // state in the event loop's queue for up to the FIN wait after (Netty drops a cancelled
        // task from the queue).
        ctx.channel().closeFuture().addListener(f -> bound.cancel(false));
      }
      return;
    }
    if (state.peerFin) {
      closeAfterPeerFin(ctx, promise);
      return;
    }
    if (state.peerCloseInKernel && !state.ioError) {
      // The pool evicted it: the kernel holds the peer's FIN (or RST) the loop has yet to read.
      // The peer closed first, so this close is as after its FIN, and it was closed while idle.
      noteIdleCloseByPeer();
      closeAfterPeerFin(ctx, promise);
      return;
    }
    if (state.peerCloseNotify) {
      noteIdleCloseByPeer();
    }
    if (state.connections.serverCloseRetirement && (state.endsByAgreement || state.peerCloseNotify)
        && state.exchangeComplete() && !state.connections.isShutDown()) {
      new FinWait(ctx, state, promise).start();
      return;
    }
    state.outcome = CloseOutcome.RESET;
    closeWith(ctx, state, false, promise);
  }

  /**
   * Closes the socket: plainly (SO_LINGER off) or with an RST (SO_LINGER 0, set on the live channel
   * unless it is set since the channel's init: one setsockopt less per reset).
   */
  static void closeWith(
      ChannelHandlerContext ctx, ChannelState state, boolean graceful, ChannelPromise promise) {
    if (ctx.channel().isActive() && (graceful || !state.lingerZero)) {
      state.lingerZero = false; // whatever the call below leaves, never skip it on its strength
      try {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, graceful ? -1 : 0);
      } catch (ChannelException e) {
        // The socket failed beneath us (macOS and the BSDs answer EINVAL once the peer has reset
        // it): close it all the same, or nothing would, since the outcome is decided already.
      }
    }
    ctx.close(promise);
  }

  /** Why the channel closed ({@link CloseReasons}), from what this adapter saw of it. */
  private CloseEvent.Reason reasonOf(CloseOutcome outcome) {
    // A body that ends with the connection is complete on the peer's FIN, which passes this
    // handler before the HTTP codec turns it into the body's end (so inExchange is still set).
    // Read from the state, not the outcome: under reset retirement that close is an RST. (A FIN
    // wait's close can end as AFTER_PEER_FIN without it, but only after a complete exchange.)
    boolean endedByFin = state.peerFin && state.closeDelimited && state.requestWritten;
    int facts = 0;
    if ((state.inExchange && !endedByFin) || state.ioError) {
      facts |= CloseReasons.EXCHANGE_CUT;
    }
    if (state.idle()) {
      facts |= CloseReasons.IDLE;
    }
    if (state.peerFin && state.inExchange && state.requests > 1
        && state.bytesRead == state.bytesReadAtRequest) {
      // The peer's FIN before any byte answered the request under way on a reused connection: it
      // closed the connection as the request reached it, or before (the stale race), as core's
      // sockets count it. A fresh connection's first request sat idle nowhere: a cut exchange.
      facts |= CloseReasons.PEER_CLOSED_WHILE_IDLE;
    }
    if (state.connections.isShutDown()) {
      facts |= CloseReasons.SHUTTING_DOWN;
    }
    return CloseReasons.decide(state.connections.strategy.kind(), outcome, state.retireReason, facts);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    FinWait wait = state.finWait;
    if (wait != null) {
      wait.closedUnder();
      if (state.outcome == null) {
        // Closed past the pipeline during the wait (the event loop shut down: Netty closes its
        // channels itself), with the wait's SO_LINGER(0) still set: an RST, the wait cut short.
        // The peer's FIN, read, ends the wait before this (peerClosed), so it is rarely here.
        state.outcome = state.ioError ? CloseOutcome.PEER_RESET
            : state.peerFin ? CloseOutcome.AFTER_PEER_FIN : CloseOutcome.FIN_WAIT_ABORTED;
      }
    }
    try {
      if (state.opened && !state.recorded) {
        state.recorded = true;
        CloseOutcome outcome = state.outcome;
        if (outcome == null) {
          // Closed by Netty itself, not through the pipeline: with SO_LINGER(0) from the start.
          outcome = state.ioError ? CloseOutcome.PEER_RESET : CloseOutcome.RESET;
        }
        outcome.recordOn(state.connections.accounting, reasonOf(outcome), state.remote,
            state.connections.strategy.kind(), state.requests, state.bornNanos, state.finWaitStartNanos);
      }
    } finally {
      // After the count (shutdown waits for it), and even if a listener's VirtualMachineError
      // came through it: else the channel stayed in the client's open set for the client's life.
      state.connections.open.remove(ctx.channel());
    }
    super.channelInactive(ctx);
  }
}
