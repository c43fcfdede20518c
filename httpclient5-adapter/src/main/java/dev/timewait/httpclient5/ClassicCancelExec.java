package dev.timewait.httpclient5;

import java.io.IOException;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;

/**
 * An exec interceptor, first in the classic chain, that makes the caller's request known to
 * {@link ClassicRequestExecutor}, which arms a server close with the request's {@code
 * isCancelled()}: a cancel during the FIN wait then ends it with an RST. Needed because
 * HttpClient hands the request executor a copy of the request, and, once the response body was
 * read, detaches the connection from the request (and from the pool) before closing it, so {@code
 * HttpUriRequestBase.cancel()} and the pool's shutdown no longer reach the connection then; the
 * cancel only sets the request's flag.
 *
 * <p>Thread-safe: stateless.
 */
final class ClassicCancelExec implements ExecChainHandler {
  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-cancel";

  /** The context attribute holding the caller's {@link CancellableDependency}, if any. */
  static final String REQUEST_ATTRIBUTE = "dev.timewait.httpclient5.cancellable-request";

  @Override
  public ClassicHttpResponse execute(
      ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
      throws IOException, HttpException {
    if (scope.originalRequest instanceof CancellableDependency) {
      scope.clientContext.setAttribute(REQUEST_ATTRIBUTE, scope.originalRequest);
    } else {
      // a context reused across requests must not keep an earlier request's flag
      scope.clientContext.removeAttribute(REQUEST_ATTRIBUTE);
    }
    return chain.proceed(request, scope);
  }
}
