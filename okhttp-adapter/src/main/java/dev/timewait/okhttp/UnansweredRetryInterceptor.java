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
 * The application interceptor of pooled keep-alive that sends a request once more when its reused
 * connection failed before any byte of the response arrived: the peer closed the connection as the
 * request went out, or a load balancer dropped it. Where that is allowed is core's rule ({@link
 * UnansweredRetry}); whether the failed exchange was unanswered on a reused connection is noted on
 * the call by {@link CloseInterceptor}, which sees the connection. OkHttp's own {@code
 * retryOnConnectionFailure} still governs every other failure, and runs before this one. An
 * application interceptor may call {@code proceed} again; the failed connection is closed by
 * OkHttp and never handed out again.
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
    Call call = chain.call();
    Attempt attempt = call.tag(Attempt.class, Attempt::new);
    Request request = chain.request();
    try {
      return chain.proceed(request);
    } catch (IOException e) {
      RequestBody body = request.body();
      boolean repeatable = body == null || !body.isOneShot();
      if (call.isCanceled()
          || !UnansweredRetry.mayRetry(request.method(), repeatable, true, attempt.unanswered, attempt.retried)) {
        throw e;
      }
      attempt.retried = true;
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

  /** What a call's exchanges told of its failures; a tag of the call. */
  static final class Attempt {
    /** The last exchange failed on a reused connection before any response byte. */
    volatile boolean unanswered;
    /** The call was already sent again once for that reason. */
    volatile boolean retried;
  }
}
