package dev.timewait.reactornetty;

import dev.timewait.spi.CloseOutcome;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A server close's wait for the server's FIN, on the channel's event loop: the close that ended
 * the exchange is held, the channel reads (and discards) what still comes, and the wait ends with
 * the server's FIN (the channel then closes with a FIN of its own: TIME_WAIT stays on the server),
 * or with an RST when the bound ({@code finWait}) runs out, the peer resets, too much data comes,
 * or the client shuts down. Never blocks the event loop: the bound is a task scheduled on it.
 *
 * <p>Confined to the channel's event loop.
 */
final class FinWait implements Runnable {
  private final ChannelHandlerContext ctx;
  private final ChannelState state;
  private final ChannelPromise held;
  private ScheduledFuture<?> timer;
  private long drained;

  FinWait(ChannelHandlerContext ctx, ChannelState state, ChannelPromise held) {
    this.ctx = ctx;
    this.state = state;
    this.held = held;
  }

  void start() {
    state.finWait = this;
    state.finWaitStartNanos = System.nanoTime();
    Connections.FIN_WAITS.incrementAndGet();
    // Reactor Netty reads on demand (autoRead off between reads); the FIN is seen only by a read.
    // Turning autoRead on starts one (Netty's DefaultChannelConfig.setAutoRead calls
    // channel.read() on the change), and with it on Netty goes on reading: no read of our own.
    ChannelConfig config = ctx.channel().config();
    if (!config.isAutoRead()) {
      config.setAutoRead(true);
    }
    timer = ctx.executor().schedule(this, state.connections.finWaitNanos, TimeUnit.NANOSECONDS);
  }

  /** The bound ran out: an RST. */
  @Override
  public void run() {
    end(CloseOutcome.FIN_WAIT_TIMEOUT);
  }

  /** Bytes that arrived during the wait (a TLS close_notify, a late body byte); discarded. */
  void drained(int bytes) {
    drained += bytes;
    if (drained > CloseOutcome.MAX_DRAIN_BYTES) {
      end(CloseOutcome.UNREAD_DATA);
    }
  }

  /** The client shuts down: end the wait now, with an RST. */
  void abort() {
    end(CloseOutcome.FIN_WAIT_ABORTED);
  }

  /** Ends the wait once: a graceful close after the peer's FIN, an RST otherwise. */
  void end(CloseOutcome outcome) {
    if (state.finWait != this) {
      return;
    }
    state.finWait = null;
    Connections.FIN_WAITS.decrementAndGet();
    if (timer != null) {
      timer.cancel(false);
    }
    state.outcome = outcome;
    SocketHandler.closeWith(ctx, state, outcome == CloseOutcome.AFTER_PEER_FIN, held);
  }

  /** The channel closed under the wait (by Netty itself): nothing to hold any more. */
  void closedUnder() {
    if (state.finWait == this) {
      state.finWait = null;
      Connections.FIN_WAITS.decrementAndGet();
      if (timer != null) {
        timer.cancel(false);
      }
      held.trySuccess();
    }
  }
}
