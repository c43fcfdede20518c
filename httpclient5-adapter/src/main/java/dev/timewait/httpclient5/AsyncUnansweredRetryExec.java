package dev.timewait.httpclient5;

import dev.timewait.spi.Counting;
import dev.timewait.CloseAccounting;
import dev.timewait.spi.UnansweredRetry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecChainHandler;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncDataConsumer;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.DataStreamChannel;
import org.apache.hc.core5.http.message.BasicHttpRequest;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec interceptor of pooled keep-alive, just before HttpClient's protocol stage (where
 * HttpClient's own retry sits when it is on), that sends a request once more on a fresh connection
 * when its reused connection failed before the response head arrived: the peer closed the
 * connection as the request went out, or a load balancer dropped it; or, whatever its method, when
 * the connection closed before the request went out at all. Where that is allowed is core's rule
 * ({@link UnansweredRetry}); that the request went out, and whether its connection had carried an
 * earlier exchange, are noted on the attempt's copy of the request by {@link AsyncExchangeRules}
 * as it goes out (HttpCore runs request interceptors just before it writes the request head). The
 * failed connection is discarded and the request scheduled again as HttpClient's own retry does.
 * It also tells each attempt's connection when its exchange ended, so that the connection counts
 * as idle only from then ({@link AsyncConnection#exchangeEnded}): it runs under pooled keep-alive
 * whether or not {@code retryUnanswered} is on, and retries only where it is.
 *
 * <p>Thread-safe: stateless beyond the accounting.
 */
final class AsyncUnansweredRetryExec implements AsyncExecChainHandler {
  private static final Logger log = LoggerFactory.getLogger(AsyncUnansweredRetryExec.class);

  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-unanswered-retry";

  /**
   * The context attribute that holds the attempt's copy where HttpClient's protocol stage sends
   * another request object: to a proxy, without a tunnel, it sends a copy with the absolute URI
   * ({@code AsyncProtocolExec}), so the request interceptors never see this exec's copy, which
   * would then look unsent and be sent again whatever its method. Only on such routes: the
   * context's first attribute costs HttpCore a HashMap per request.
   */
  static final String PROXIED_COPY_ATTRIBUTE = "dev.timewait.httpclient5.proxied-copy";

  /**
   * The context attribute that holds a stand-in for the attempt's copy where a request of another's
   * making went out in its place: an exec interceptor of the user's, after this one, sent a copy
   * of its own (as signing interceptors do), which the request interceptors see instead. The
   * stand-in notes what the copy would have: that it went out, on which connection, and whether
   * that connection was reused. Only then: the context's first attribute costs HttpCore a HashMap
   * per request.
   */
  static final String UNRECOGNISED_ATTRIBUTE = "dev.timewait.httpclient5.unrecognised-request";

  private final CloseAccounting accounting;
  private final boolean retry;

  /**
   * @param accounting where retries are counted
   * @param retry whether a request whose reused connection failed unanswered is sent once more
   *     ({@link dev.timewait.PooledKeepAlive#retryUnanswered})
   */
  AsyncUnansweredRetryExec(CloseAccounting accounting, boolean retry) {
    this.accounting = accounting;
    this.retry = retry;
  }

  /**
   * Notes that {@code request} goes out on {@code connection}, and whether that connection had
   * carried an earlier exchange, if {@code request} is an attempt's copy (the one this exec passed
   * on; HttpCore hands the request interceptors that same object): the connection's exchange has
   * begun, and ends when the attempt completes or fails. Kept on the copy rather than in the
   * context: the context's first attribute costs HttpCore a HashMap per request.
   */
  static void noteSent(HttpRequest request, AsyncConnection connection, boolean reused, HttpContext context) {
    Copy copy = request instanceof Copy ? (Copy) request : null;
    if (copy == null) {
      Object proxied = context.getAttribute(PROXIED_COPY_ATTRIBUTE);
      copy = proxied instanceof Copy ? (Copy) proxied : null;
    }
    if (copy == null) {
      // Until session 41 such an attempt looked unsent, and a POST the peer closed its connection
      // on after reading it went out twice (CopiedRequestRetryTest).
      copy = standIn(context);
      if (copy == null) {
        copy = new Copy(request);
        context.setAttribute(UNRECOGNISED_ATTRIBUTE, copy);
      }
    }
    copy.reused = reused;
    copy.wentOut = true;
    AsyncConnection before = copy.connection;
    if (before == connection) {
      // Sent again on the same connection within the attempt (the protocol stage answers a 401
      // or 407 challenge so): one exchange still under way, busy from now.
      connection.markBusy();
      return;
    }
    if (before != null) {
      before.exchangeEnded(); // sent again on another connection: the first one's exchange is over
    }
    copy.connection = connection;
    connection.exchangeBegan();
  }

  /** The stand-in for an attempt's copy in {@code context} ({@link #UNRECOGNISED_ATTRIBUTE}), or null. */
  private static Copy standIn(HttpContext context) {
    Object known = context.getAttribute(UNRECOGNISED_ATTRIBUTE);
    return known instanceof Copy ? (Copy) known : null;
  }

  @Override
  public void execute(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback) throws HttpException, IOException {
    // Once per call, not per execution: HttpClient's own retry, further out in the chain, runs
    // this again for each of its attempts (as ClassicUnansweredRetryExec, same attribute).
    attempt(request, entityProducer, scope, chain, callback, retriedBefore(scope));
  }

  private static boolean retriedBefore(AsyncExecChain.Scope scope) {
    return scope.exchangeId.equals(
        scope.clientContext.getAttribute(ClassicUnansweredRetryExec.RETRIED_ATTRIBUTE));
  }

  private void attempt(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback,
      boolean retried) throws HttpException, IOException {
    // A copy per attempt, as HttpClient's own retry does: the protocol stage adds to the request.
    Copy copy = new Copy(request);
    Copy stale = standIn(scope.clientContext);
    if (stale != null) { // an earlier attempt's or call's, on a context the caller reuses
      scope.clientContext.removeAttribute(UNRECOGNISED_ATTRIBUTE);
      stale.ended();
    }
    if (scope.route.getProxyHost() != null && !scope.route.isTunnelled()) {
      scope.clientContext.setAttribute(PROXIED_COPY_ATTRIBUTE, copy);
    } else if (scope.clientContext.getAttribute(PROXIED_COPY_ATTRIBUTE) != null) {
      // An earlier proxied attempt's that never ended, on a context the caller reuses: it would
      // take this attempt's sending for its own.
      scope.clientContext.removeAttribute(PROXIED_COPY_ATTRIBUTE);
    }
    // Only a body that may go again is watched: a one-shot one is never resent.
    BodyWatch watch = retry && entityProducer != null && entityProducer.isRepeatable()
        ? new BodyWatch(entityProducer) : null;
    chain.proceed(copy, watch != null ? watch : entityProducer, scope,
        new Attempt(request, copy, entityProducer, watch, scope, chain, callback, retried));
  }

  /**
   * The caller's body as HttpCore produces it, noting whether it failed by itself (a file gone),
   * not in a write to the connection (a peer's RST: "Broken pipe" from the channel's write): then
   * the exchange failed above the connection, which the peer did not close, and nothing is
   * resent (before, "no response yet" sent it again and counted a stale retry). Thread-safe:
   * HttpCore produces on its reactor thread, one call at a time; the flag is read when the attempt
   * fails.
   */
  static final class BodyWatch implements AsyncEntityProducer, DataStreamChannel {
    private final AsyncEntityProducer body;
    /** The channel of the produce call under way. */
    private DataStreamChannel channel;
    private boolean channelFailed;
    volatile boolean failedItself;

    BodyWatch(AsyncEntityProducer body) {
      this.body = body;
    }

    @Override
    public void produce(DataStreamChannel channel) throws IOException {
      this.channel = channel;
      channelFailed = false;
      try {
        body.produce(this);
      } catch (IOException | RuntimeException e) {
        if (!channelFailed) {
          failedItself = true;
        }
        throw e;
      }
    }

    @Override
    public void requestOutput() {
      channel.requestOutput();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      try {
        return channel.write(src);
      } catch (IOException | RuntimeException e) {
        channelFailed = true;
        throw e;
      }
    }

    @Override
    public void endStream() throws IOException {
      try {
        channel.endStream();
      } catch (IOException | RuntimeException e) {
        channelFailed = true;
        throw e;
      }
    }

    @Override
    public void endStream(List<? extends Header> trailers) throws IOException {
      try {
        channel.endStream(trailers);
      } catch (IOException | RuntimeException e) {
        channelFailed = true;
        throw e;
      }
    }

    @Override
    public int available() {
      return body.available();
    }

    @Override
    public boolean isRepeatable() {
      return body.isRepeatable();
    }

    @Override
    public void failed(Exception cause) {
      body.failed(cause);
    }

    @Override
    public void releaseResources() {
      body.releaseResources();
    }

    @Override
    public long getContentLength() {
      return body.getContentLength();
    }

    @Override
    public String getContentType() {
      return body.getContentType();
    }

    @Override
    public String getContentEncoding() {
      return body.getContentEncoding();
    }

    @Override
    public boolean isChunked() {
      return body.isChunked();
    }

    @Override
    public Set<String> getTrailerNames() {
      return body.getTrailerNames();
    }
  }

  /**
   * The request as it goes on down the chain: what {@code BasicRequestBuilder.copy(request).build()}
   * makes (method, scheme, authority, path, version, headers), built directly, which saves the
   * builder and its header list; and whether its connection was reused, which {@link
   * AsyncExchangeRules} notes as it goes out.
   */
  private static final class Copy extends BasicHttpRequest {
    private static final long serialVersionUID = 1L;

    volatile boolean reused;
    /** HttpCore began to write it: the request interceptors ran. */
    volatile boolean wentOut;
    /** The connection it went out on, whose exchange ends with the attempt; null before. */
    volatile AsyncConnection connection;

    /**
     * The attempt ended (completed or failed): its connection's exchange with it. Once: the copy
     * lets go of the connection (a proxied route's context keeps the copy).
     */
    void ended() {
      // Once, also if completed and failed race (a cancel on the caller's thread as the stream
      // ends): a second decrement would leave the connection's count below zero, never idle.
      AsyncConnection c = (AsyncConnection) CONNECTION.getAndSet(this, (AsyncConnection) null);
      if (c != null) {
        c.exchangeEnded();
      }
    }

    private static final java.lang.invoke.VarHandle CONNECTION;

    static {
      try {
        CONNECTION = java.lang.invoke.MethodHandles.lookup()
            .findVarHandle(Copy.class, "connection", AsyncConnection.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    Copy(HttpRequest original) {
      super(original.getMethod(), original.getScheme(), original.getAuthority(), original.getPath());
      setVersion(original.getVersion());
      setHeaders(original.getHeaders());
    }
  }

  /** One attempt's callback: notes whether a response began, and retries where it may. */
  private final class Attempt implements AsyncExecCallback {
    private final HttpRequest request;
    private final Copy copy;
    private final AsyncEntityProducer entityProducer;
    /** The body as it went down the chain, watched; null where none is. */
    private final BodyWatch watch;
    private final AsyncExecChain.Scope scope;
    private final AsyncExecChain chain;
    private final AsyncExecCallback callback;
    private final boolean retried;
    private volatile boolean answered;

    Attempt(HttpRequest request, Copy copy, AsyncEntityProducer entityProducer, BodyWatch watch,
        AsyncExecChain.Scope scope, AsyncExecChain chain, AsyncExecCallback callback, boolean retried) {
      this.request = request;
      this.copy = copy;
      this.entityProducer = entityProducer;
      this.watch = watch;
      this.scope = scope;
      this.chain = chain;
      this.callback = callback;
      this.retried = retried;
    }

    @Override
    public AsyncDataConsumer handleResponse(HttpResponse response, EntityDetails entityDetails)
        throws HttpException, IOException {
      answered = true;
      return callback.handleResponse(response, entityDetails);
    }

    @Override
    public void handleInformationResponse(HttpResponse response) throws HttpException, IOException {
      answered = true;
      callback.handleInformationResponse(response);
    }

    @Override
    public void completed() {
      ended(); // before the caller hears of it: the connection is idle when the call returns
      callback.completed();
    }

    /** Ends the attempt's exchange; a proxied route's context lets go of the copy. */
    private void ended() {
      copy.ended();
      Copy standIn = standIn(scope.clientContext);
      if (standIn != null) {
        standIn.ended();
        scope.clientContext.removeAttribute(UNRECOGNISED_ATTRIBUTE);
      }
      if (scope.route.getProxyHost() != null && !scope.route.isTunnelled()
          && scope.clientContext.getAttribute(PROXIED_COPY_ATTRIBUTE) == copy) {
        scope.clientContext.removeAttribute(PROXIED_COPY_ATTRIBUTE);
      }
    }

    @Override
    public void failed(Exception cause) {
      Copy sent = standIn(scope.clientContext); // before ended() lets go of it
      if (sent == null) {
        sent = copy;
      }
      AsyncConnection on = sent.connection; // as is its connection
      if (on != null) {
        on.exchangeFailed = true; // before ended() makes it look idle: HttpClient discards it next
        // A reused connection's only: a fresh one's first request closed unanswered sat idle
        // nowhere, and reads as the cut exchange it was.
        if (!answered && on.peerEnded && on.requests() > 1) {
          on.closedByPeerBeforeAnswer = true;
        }
      }
      ended();
      // The client is closing (its shutdown resets every connection): that is no peer's close,
      // and a retry would go into the closing client (session 41, a read-only audit). Nor is a
      // failure of the caller's own body (RequestBodyFailureTest).
      if (!retry || (on != null && on.shuttingDown) || (watch != null && watch.failedItself)) {
        callback.failed(cause);
        return;
      }
      boolean repeatable = entityProducer == null || entityProducer.isRepeatable();
      // Closed before the request went out: HttpCore read the peer's FIN before it began the
      // request (its reactor handles a socket's input before its output, and HttpCore then
      // cancels the request with RequestNotExecutedException, a ConnectionClosedException); the
      // peer's FIN waited unread while the reactor was busy, or came within staleCheckAfterIdle
      // of the last exchange. HttpClient's own retry never retries a ConnectionClosedException.
      // What went out is the copy's, or its stand-in's where another request went in its place.
      boolean unsent = cause instanceof ConnectionClosedException && !sent.wentOut;
      if (!(cause instanceof IOException) || scope.cancellableDependency.isCancelled()
          || UnansweredRetry.isTimeout(cause)
          || !(unsent ? UnansweredRetry.mayResendUnsent(repeatable, retried)
              : UnansweredRetry.mayRetry(request.getMethod(), repeatable, sent.reused, !answered, retried))) {
        callback.failed(cause);
        return;
      }
      scope.clientContext.setAttribute(ClassicUnansweredRetryExec.RETRIED_ATTRIBUTE, scope.exchangeId);
      Counting.staleRetry(accounting);
      log.debug("{} {}: {} ({}); sending it once more on a fresh connection", request.getMethod(),
          scope.route.getTargetHost(), unsent ? "the connection closed before the request went out"
              : "the reused connection failed unanswered", cause.toString());
      scope.execRuntime.discardEndpoint();
      if (entityProducer != null) {
        entityProducer.releaseResources();
      }
      scope.scheduler.scheduleExecution(request, entityProducer, scope,
          (r, e, s, c) -> attempt(r, e, s, chain, c, true), callback, TimeValue.ZERO_MILLISECONDS);
    }
  }
}
