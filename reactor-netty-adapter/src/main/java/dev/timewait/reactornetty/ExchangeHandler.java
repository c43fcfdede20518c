package dev.timewait.reactornetty;

import dev.timewait.CloseEvent;
import dev.timewait.spi.ConnectionRules;
import dev.timewait.spi.KeepAliveAnnouncement;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import reactor.netty.channel.ChannelOperations;

/**
 * The handler just after Reactor Netty's HTTP/1.1 codec: it sees each exchange as HTTP messages,
 * reports what it sees to core's {@link ConnectionRules}, and applies the answer:
 *
 * <ul>
 *   <li>a request: counted on its connection; {@code Connection: close} set when the rules ask the
 *       server to close (every request under server close; the connection's last under pooled
 *       keep-alive with server-close retirement);
 *   <li>the request's last content written, the response's last content read: the exchange is
 *       complete, the condition for a FIN wait (and for any reuse);
 *   <li>a response head: whether the exchange ends the connection by agreement, whether the
 *       connection may be reused ({@code retire} and Reactor Netty's own "not persistent"
 *       otherwise), and an announced {@code Keep-Alive: timeout};
 *   <li>the peer's TLS close_notify.
 * </ul>
 *
 * <p>Closes from above pass straight to the {@link SocketHandler} (see {@link #close}).
 *
 * <p>One instance per channel; confined to its event loop.
 */
final class ExchangeHandler extends ChannelDuplexHandler {
  static final String NAME = "timewait.exchange";

  private final ChannelState state;
  private final SocketHandler socket;

  /** Notes that the request was written whole: one listener per channel, not one per request. */
  private final ChannelFutureListener requestWritten;

  ExchangeHandler(ChannelState state, SocketHandler socket) {
    this.state = state;
    this.socket = socket;
    this.requestWritten = f -> {
      if (f.isSuccess()) {
        state.requestWritten = true;
      }
    };
  }

  /** Not sharable, without Netty's lookup ({@link SocketHandler#isSharable}). */
  @Override
  public boolean isSharable() {
    return false;
  }

  /**
   * A close from Reactor Netty or the pool goes straight to the socket handler, past the {@code
   * SslHandler}: no close_notify. A reset has no use for one, and a close_notify sent to a server
   * that has already closed its socket (it answered {@code Connection: close} with its own
   * close_notify and FIN) draws an RST from the server's kernel, which ends the server's TIME_WAIT
   * and the client's FIN wait (measured: 12 of 500 server closes against Jetty over TLS).
   */
  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
    ChannelHandlerContext socketContext = ctx.pipeline().context(socket);
    if (socketContext == null) {
      ctx.close(promise);
      return;
    }
    socket.close(socketContext, promise);
  }

  /**
   * Whether the request's body follows its head in messages of its own: Reactor Netty writes a
   * {@code Mono}'s body, or none, with the head as one full request; a {@code Flux} after a head
   * that is chunked or declares a length (HTTP/1.1 has no other request body).
   */
  private static boolean streamsBody(HttpRequest request) {
    return !(request instanceof FullHttpRequest)
        && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) != 0);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof HttpRequest) {
      HttpRequest request = (HttpRequest) msg;
      String method = request.method().name();
      // Reactor Netty's operations for this exchange carry the subscriber's context, where the
      // exchange's attempt is (HttpClient.doOnRequest would hand over the same, at the cost of an
      // observer per request).
      ChannelOperations<?, ?> operations = ChannelOperations.get(ctx.channel());
      if (operations != null) {
        Attempts.bind(operations, state, method, streamsBody(request));
      }
      long now = System.nanoTime();
      // The pool's check (Eviction) ran when it handed the connection out; a FIN that came since,
      // while the request made its way to the event loop (the loop runs its queued tasks before
      // it reads again), is found here, before any byte of the request is written.
      if (KernelPeerClose.seenAfterIdle(ctx.channel(), state, now)) {
        state.requestNotSent = true;
        state.peerCloseInKernel = true;
        ReferenceCountUtil.release(msg);
        promise.setFailure(new IOException("the peer closed the pooled connection before the"
            + " request went out (its FIN or RST was in the kernel); nothing of the request was sent"));
        ctx.channel().close(); // as after the peer's FIN: counted closed idle by the peer
        return;
      }
      int requests = state.requests + 1;
      state.requests = requests;
      state.inExchange = true;
      state.bytesReadAtRequest = state.bytesRead;
      state.requestWritten = false;
      state.responseComplete = false;
      state.endsByAgreement = false;
      state.closeDelimited = false;
      state.method = method;
      ConnectionRules rules = state.connections.rules;
      CloseEvent.Reason lastReason = rules.lastReason(requests, now - state.bornNanos);
      state.last = lastReason != null;
      if (lastReason != null) {
        state.retire(lastReason);
      }
      String connection = request.headers().get(HttpHeaderNames.CONNECTION);
      // An upgrade (a WebSocket handshake: Connection: Upgrade) keeps its Connection header: with
      // close instead the server refuses it (RFC 6455 4.1, RFC 9110 7.8). The upgraded connection
      // leaves HTTP and the pool (Reactor Netty marks it not persistent); its close resets, as
      // that of an exchange the adapter never saw end.
      boolean upgrade = request.headers().contains(HttpHeaderNames.UPGRADE);
      if (!upgrade && rules.mustAskServerToClose(state.last)
          && !ConnectionRules.hasToken(connection, "close")) {
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        connection = HttpHeaderValues.CLOSE.toString();
      }
      state.requestConnection = connection;
    }
    if (state.requestNotSent) {
      // The rest of a request whose head was held back: nothing of it goes out.
      ReferenceCountUtil.release(msg);
      promise.setFailure(new ClosedChannelException());
      return;
    }
    if (msg instanceof LastHttpContent) {
      ChannelPromise written = promise.unvoid();
      written.addListener(requestWritten);
      ctx.write(msg, written);
      return;
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpResponse) {
      HttpResponse response = (HttpResponse) msg;
      if (response.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
        state.informational = true;
      } else {
        heed(ctx, response);
      }
    }
    if (msg instanceof LastHttpContent) {
      if (state.informational) {
        state.informational = false;
      } else if (state.inExchange) {
        state.responseComplete = true;
        state.inExchange = false;
        state.lastExchangeEndNanos = System.nanoTime();
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** What the response head says about the connection. */
  private void heed(ChannelHandlerContext ctx, HttpResponse response) {
    state.closeDelimited =
        !HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response);
    boolean http10 = response.protocolVersion().compareTo(HttpVersion.HTTP_1_1) < 0;
    String connection = response.headers().get(HttpHeaderNames.CONNECTION);
    String keepAlive = response.headers().get("Keep-Alive");
    state.endsByAgreement = ConnectionRules.endsByAgreement(state.requestConnection, http10, connection);
    // A close the caller asked for (its own header, or keepAlive(false)) on a request that was not
    // the connection's last: Reactor Netty reads only the response for that, and would pool a
    // connection the server may be closing (RFC 9112 9.6: no further request after close).
    boolean callerAsked = !state.last && ConnectionRules.hasToken(state.requestConnection, "close");
    if (callerAsked || !state.connections.rules.mayReuse(state.last, http10, connection, keepAlive)) {
      state.retire = true;
      // Reactor Netty's "not persistent": it closes the connection after this exchange instead
      // of releasing it to the pool. Set before its operations read the response head, which
      // only ever clear the flag. Not needed on ConnectionProvider.newConnection(), which closes
      // every connection when its exchange ends (one channel attribute less per connection).
      ChannelOperations<?, ?> operations =
          state.connections.pooledProvider ? ChannelOperations.get(ctx.channel()) : null;
      if (operations != null) {
        operations.markPersistent(false);
      }
      if (callerAsked) {
        state.retire(CloseEvent.Reason.CALLER_ASKED);
      } else if (!state.last) {
        state.retire(state.connections.rules.retireReason(null, http10, connection, keepAlive));
      }
    } else {
      if (state.closeDelimited && !state.last && ConnectionRules.bodyEndsAtClose(state.method,
          response.status().code(), response.headers().get(HttpHeaderNames.TRANSFER_ENCODING),
          response.headers().get(HttpHeaderNames.CONTENT_LENGTH))) {
        // A body that only the peer's close ends ends the connection with it, as the other
        // adapters count it (the lookups only for a response with neither length nor chunking).
        state.retire(CloseEvent.Reason.PEER_ANNOUNCED);
      }
      long retireAfter = KeepAliveAnnouncement.retireAfterIdleNanos(keepAlive);
      if (retireAfter != KeepAliveAnnouncement.NOT_ANNOUNCED) {
        state.retireAfterIdleNanos = retireAfter;
      }
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslCloseCompletionEvent && ((SslCloseCompletionEvent) evt).isSuccess()) {
      state.peerCloseNotify = true;
    }
    super.userEventTriggered(ctx, evt);
  }
}
