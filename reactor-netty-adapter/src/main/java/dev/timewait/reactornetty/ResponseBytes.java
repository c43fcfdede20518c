package dev.timewait.reactornetty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Counts the bytes the HTTP codec receives over TLS: the peer's HTTP bytes, after TLS (without TLS
 * the {@link SocketHandler} counts them). A failed exchange that got none of them was unanswered
 * (a TLS close_notify, which the socket handler sees as bytes, is not an answer). One instance per
 * channel; confined to its event loop.
 */
final class ResponseBytes extends ChannelInboundHandlerAdapter {
  static final String NAME = "timewait.responseBytes";

  private final ChannelState state;

  ResponseBytes(ChannelState state) {
    this.state = state;
  }

  /** Not sharable, without Netty's lookup ({@link SocketHandler#isSharable}). */
  @Override
  public boolean isSharable() {
    return false;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf) {
      state.bytesRead += ((ByteBuf) msg).readableBytes();
    }
    ctx.fireChannelRead(msg);
  }
}
