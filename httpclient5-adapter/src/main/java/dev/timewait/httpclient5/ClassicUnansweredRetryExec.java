package dev.timewait.httpclient5;

import dev.timewait.spi.Counting;
import dev.timewait.CloseAccounting;
import dev.timewait.spi.UnansweredRetry;
import java.io.IOException;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exec interceptor of pooled keep-alive, just before HttpClient's protocol handler (where
 * HttpClient's own retry sits when it is on), that sends a request once more on a fresh connection when its reused connection
 * failed before any byte of the response arrived: the peer closed the connection as the request
 * went out, or a load balancer dropped it. Where that is allowed is core's rule ({@link
 * UnansweredRetry}); whether the exchange failed unanswered on a reused connection is noted in the
 * context by {@link ClassicRequestExecutor}, which sees the connection. HttpClient has discarded
 * the failed connection by then, so the second attempt leases another. HttpClient's own retry
 * strategy, further out in the chain, still governs every other failure.
 *
 * <p>Thread-safe: stateless beyond the accounting.
 */
final class ClassicUnansweredRetryExec implements ExecChainHandler {
  private static final Logger log = LoggerFactory.getLogger(ClassicUnansweredRetryExec.class);

  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-unanswered-retry";

  /** The context attribute that says the exchange failed unanswered on a reused connection. */
  static final String UNANSWERED_ATTRIBUTE = "dev.timewait.httpclient5.unanswered";

  /**
   * The context attribute that holds the exchange id of a call this exec sent again: once per
   * call, also when HttpClient's own retry, which sits before this exec in the chain, runs it
   * again, and after a redirect (both keep the call's exchange id, a new one per call). The id, not
   * a flag, so that a context the caller reuses for another call does not carry it over; not the
   * original request, which a caller may reuse too (a polling loop: after one retry, none again;
   * until session 41). Set only on a retry: the context's first attribute costs a HashMap.
   */
  static final String RETRIED_ATTRIBUTE = "dev.timewait.httpclient5.retried";

  private final CloseAccounting accounting;

  ClassicUnansweredRetryExec(CloseAccounting accounting) {
    this.accounting = accounting;
  }

  @Override
  public ClassicHttpResponse execute(
      ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
      throws IOException, HttpException {
    scope.clientContext.removeAttribute(UNANSWERED_ATTRIBUTE);
    try {
      return chain.proceed(request, scope);
    } catch (IOException e) {
      boolean unanswered = Boolean.TRUE.equals(scope.clientContext.getAttribute(UNANSWERED_ATTRIBUTE));
      scope.clientContext.removeAttribute(UNANSWERED_ATTRIBUTE);
      HttpEntity entity = request.getEntity();
      boolean repeatable = entity == null || entity.isRepeatable();
      // An interrupted caller cancelled the call, as an abort does: a virtual thread's read
      // (JDK 21+) ends with "Closed by interrupt" and no response byte, which looks unanswered.
      if (scope.execRuntime.isExecutionAborted() || Thread.currentThread().isInterrupted()
          || UnansweredRetry.isTimeout(e)
          || !UnansweredRetry.mayRetry(request.getMethod(), repeatable, true, unanswered,
              retriedBefore(scope))) {
        throw e;
      }
      scope.clientContext.setAttribute(RETRIED_ATTRIBUTE, scope.exchangeId);
      Counting.staleRetry(accounting);
      log.debug("{} {}: the reused connection failed unanswered ({}); sending it once more on a fresh"
          + " connection", request.getMethod(), scope.route.getTargetHost(), e.toString());
      try {
        // As HttpClient's own retry does: the request below the protocol handler carries what it
        // added, so the second attempt starts again from a copy of the original.
        ClassicHttpRequest copy = ClassicRequestBuilder.copy(scope.originalRequest).build();
        // HttpClient's content compression stage, before this one in the chain, added its
        // Accept-Encoding to the request passed on, not to the original: the copy goes without
        // it otherwise (its response then uncompressed).
        Header encoding = request.getFirstHeader(HttpHeaders.ACCEPT_ENCODING);
        if (encoding != null && !copy.containsHeader(HttpHeaders.ACCEPT_ENCODING)) {
          copy.addHeader(encoding);
        }
        return chain.proceed(copy, scope);
      } catch (IOException again) {
        again.addSuppressed(e);
        throw again;
      }
    }
  }

  private static boolean retriedBefore(ExecChain.Scope scope) {
    return scope.exchangeId.equals(scope.clientContext.getAttribute(RETRIED_ATTRIBUTE));
  }
}
