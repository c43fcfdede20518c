package dev.timewait.okhttp;

import dev.timewait.spi.Counting;
import dev.timewait.CloseAccounting;
import dev.timewait.spi.UnansweredRetry;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unanswered retry of pooled keep-alive: sends a request once more when its reused
 * connection failed before any byte of the response arrived: the peer closed the connection as the
 * request went out, or a load balancer dropped it. Where that is allowed is core's rule ({@link
 * UnansweredRetry}); whether the failed exchange was unanswered on a reused connection is noted on
 * the call's {@link SlotInterceptor.CallSlot} by {@link CloseInterceptor}, which sees the
 * connection. OkHttp's own {@code retryOnConnectionFailure} still governs every other failure, and
 * runs before this one. An application interceptor may call {@code proceed} again; the failed
 * connection is closed by OkHttp and never handed out again.
 *
 * <p>The {@link SlotInterceptor} runs this itself ({@link #proceed}) when the two would stand next
 * to each other (the builder had no application interceptor of its own at {@code configure}), one
 * interceptor in OkHttp's chain instead of two; otherwise this interceptor stands after the
 * builder's own, as the slot bound stands before them, so that a retry runs only the application
 * interceptors added after {@code configure}.
 *
 * <p>Thread-safe: one instance serves every call of a client.
 */
final class UnansweredRetryInterceptor implements Interceptor {
  private static final Logger log = LoggerFactory.getLogger(UnansweredRetryInterceptor.class);

  private final CloseAccounting accounting;

  UnansweredRetryInterceptor(CloseAccounting accounting) {
    this.accounting = accounting;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    // The slot bound, first in the chain, tagged the call (pooled keep-alive has both).
    SlotInterceptor.CallSlot state = chain.call().tag(SlotInterceptor.CALL_SLOT);
    if (state == null) {
      return chain.proceed(chain.request());
    }
    return proceed(chain, state, accounting);
  }

  /**
   * Proceeds with the chain's request, and once more if it failed unanswered on a reused
   * connection where HTTP allows it, counted as a stale retry in {@code accounting}.
   */
  static Response proceed(Chain chain, SlotInterceptor.CallSlot state, CloseAccounting accounting)
      throws IOException {
    Call call = chain.call();
    Request request = chain.request();
    try {
      return chain.proceed(request);
    } catch (IOException e) {
      RequestBody body = request.body();
      boolean repeatable = body == null || !body.isOneShot();
      // An interrupted caller cancelled the call, as Call.cancel() does: a virtual thread's read
      // (JDK 21+) ends with "Closed by interrupt" and no response byte, which looks unanswered.
      if (state.followedUp || call.isCanceled() || Thread.currentThread().isInterrupted()
          || UnansweredRetry.isTimeout(e)
          || !UnansweredRetry.mayRetry(request.method(), repeatable, true, state.unanswered, state.retried)) {
        throw e;
      }
      state.retried = true;
      Counting.staleRetry(accounting);
      log.debug("{} {}: the reused connection failed unanswered ({}); sending it once more on a fresh"
          + " connection", request.method(), request.url().redact(), e.toString());
      try {
        return chain.proceed(request);
      } catch (IOException again) {
        again.addSuppressed(e);
        throw again;
      }
    }
  }

  @Override
  public String toString() {
    return "TimeWaitOkHttp.UnansweredRetryInterceptor";
  }
}
