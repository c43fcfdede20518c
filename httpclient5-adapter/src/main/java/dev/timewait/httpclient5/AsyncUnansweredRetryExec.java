package dev.timewait.httpclient5;

import dev.timewait.spi.Counting;
import dev.timewait.CloseAccounting;
import dev.timewait.spi.UnansweredRetry;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecChainHandler;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncDataConsumer;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.support.BasicRequestBuilder;
import org.apache.hc.core5.util.TimeValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec interceptor of pooled keep-alive, just before HttpClient's protocol stage (where
 * HttpClient's own retry sits when it is on), that sends a request once more on a fresh connection
 * when its reused connection failed before the response head arrived: the peer closed the
 * connection as the request went out, or a load balancer dropped it. Where that is allowed is
 * core's rule ({@link UnansweredRetry}); whether the connection had carried an earlier exchange
 * is noted in the context by {@link AsyncExchangeRules} as the request goes out. The failed
 * connection is discarded and the request scheduled again as HttpClient's own retry does.
 *
 * <p>Thread-safe: stateless beyond the accounting.
 */
final class AsyncUnansweredRetryExec implements AsyncExecChainHandler {
  private static final Logger log = LoggerFactory.getLogger(AsyncUnansweredRetryExec.class);

  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-unanswered-retry";

  /** The context attribute that says the exchange's connection had carried an earlier one. */
  static final String REUSED_ATTRIBUTE = "dev.timewait.httpclient5.reused";

  private final CloseAccounting accounting;

  AsyncUnansweredRetryExec(CloseAccounting accounting) {
    this.accounting = accounting;
  }

  /** Notes, for the exchange in {@code context}, whether its connection was reused. */
  static void noteReused(HttpContext context, boolean reused) {
    context.setAttribute(REUSED_ATTRIBUTE, reused);
  }

  @Override
  public void execute(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback) throws HttpException, IOException {
    attempt(request, entityProducer, scope, chain, callback, false);
  }

  private void attempt(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback,
      boolean retried) throws HttpException, IOException {
    scope.clientContext.removeAttribute(REUSED_ATTRIBUTE);
    AtomicBoolean answered = new AtomicBoolean();
    // A copy per attempt, as HttpClient's own retry does: the protocol stage adds to the request.
    chain.proceed(BasicRequestBuilder.copy(request).build(), entityProducer, scope, new AsyncExecCallback() {
      @Override
      public AsyncDataConsumer handleResponse(HttpResponse response, EntityDetails entityDetails)
          throws HttpException, IOException {
        answered.set(true);
        return callback.handleResponse(response, entityDetails);
      }

      @Override
      public void handleInformationResponse(HttpResponse response) throws HttpException, IOException {
        answered.set(true);
        callback.handleInformationResponse(response);
      }

      @Override
      public void completed() {
        callback.completed();
      }

      @Override
      public void failed(Exception cause) {
        boolean reused = Boolean.TRUE.equals(scope.clientContext.getAttribute(REUSED_ATTRIBUTE));
        boolean repeatable = entityProducer == null || entityProducer.isRepeatable();
        if (!(cause instanceof IOException) || scope.cancellableDependency.isCancelled()
            || !UnansweredRetry.mayRetry(request.getMethod(), repeatable, reused, !answered.get(), retried)) {
          callback.failed(cause);
          return;
        }
        Counting.staleRetry(accounting);
        log.debug("{} {}: the reused connection failed unanswered ({}); sending it once more on a"
            + " fresh connection", request.getMethod(), scope.route.getTargetHost(), cause.toString());
        scope.execRuntime.discardEndpoint();
        if (entityProducer != null) {
          entityProducer.releaseResources();
        }
        scope.scheduler.scheduleExecution(request, entityProducer, scope,
            (r, e, s, c) -> attempt(r, e, s, chain, c, true), callback, TimeValue.ZERO_MILLISECONDS);
      }
    });
  }
}
