package dev.timewait.httpclient5;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecChainHandler;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;

/**
 * Exec interceptors, one right before HttpClient's connect stage and one right before its main
 * transport stage, that let the caller's cancel of a call reach the exchange under way, whatever
 * the order in which the stages handed in their cancel handles.
 *
 * <p>Why: the stages hand their handles to the call's Future ({@code setDependency}), which keeps
 * only the last. HttpClient 5.6's connect stage hands in the lease's handle when {@code
 * acquireEndpoint} returns; when an idle pooled connection is leased, the lease completes inside
 * that call and the exchange starts and hands in its own handle first, which the lease's then
 * replaces. A cancel of the Future then cancels a finished lease, and the exchange goes on until
 * its response ends or times out. The connect's handle can replace the exchange's the same way
 * when the reactor connects and starts the exchange before the calling thread hands it in.
 * Measured with HttpClient 5.6.5 alone (benchmarks' {@code CancelLoss}): 34-38 of 50 cancels on
 * reused connections and 38-44 of 200 on new ones left the connection open and leased.
 *
 * <p>The stages from the connect stage on get a scope whose dependency ({@link Handles}) tells the
 * exchange's handles (handed in by the main transport stage, on the thread that runs it, which
 * {@link Exchange} notes) from the setup's (lease, connect). A cancel cancels the exchange's
 * handles if the exchange has started, else the newest setup handle, as HttpClient itself would; a
 * handle handed in after the cancel is cancelled at once. A connect under way is never cancelled
 * by a handle it replaced: cancelling HttpClient's connect future after the reactor has connected
 * leaves a session that no one owns (seen: one connection counted open for ever in 600 cancels
 * racing connect). Where the exchange is cancelled, HttpClient discards its connection itself,
 * which the session decorator resets and counts. Where a setup handle is cancelled, the connect it
 * reached may have completed as it was cancelled, leaving a socket the reactor never reports
 * closed: the registry is swept once the cancel returns ({@link AsyncConnections#sweep}).
 *
 * <p>Thread-safe: each call's handles are guarded by their own lock.
 */
final class AsyncCancelExec implements AsyncExecChainHandler {
  /** The name of this interceptor in HttpClient's exec chain (before the connect stage). */
  static final String NAME = "timewait-cancel";

  private final Runnable afterSetupCancel;

  /**
   * @param afterSetupCancel run on the cancelling thread once a cancel of a setup handle (lease,
   *     connect) has returned
   */
  AsyncCancelExec(Runnable afterSetupCancel) {
    this.afterSetupCancel = afterSetupCancel;
  }

  @Override
  public void execute(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback) throws HttpException, IOException {
    if (scope.cancellableDependency.isCancelled()) {
      // An attempt that starts after the call was cancelled: HttpClient's retry re-runs the chain
      // without asking whether the call was cancelled, and a cancel brings about the very failure
      // it retries. The exchange's connection is closed from the cancelling thread while the
      // reactor may be reading it: the read fails with ClosedChannelException, an IOException
      // that DefaultHttpRequestRetryStrategy deems recoverable (measured: 1-3 retries in 30 early
      // cancels, each leasing and connecting anew, its connect cancelled as it went). Nothing is
      // leased or connected for a cancelled call: it ends here as HttpClient ends a cancelled
      // scheduled execution.
      callback.failed(new CancellationException("Request execution cancelled"));
      return;
    }
    Handles handles = new Handles(scope.cancellableDependency, afterSetupCancel);
    // Already cancelled: the Future cancels the handles at once, and each one handed in later.
    scope.cancellableDependency.setDependency(handles);
    chain.proceed(request, entityProducer, new AsyncExecChain.Scope(scope.exchangeId, scope.route,
        scope.originalRequest, handles, scope.clientContext, scope.execRuntime, scope.scheduler,
        scope.execCount), callback);
  }

  /**
   * The interceptor right before the main transport stage: what that stage hands in on this
   * thread while it runs is the exchange's handle.
   */
  static final class Exchange implements AsyncExecChainHandler {
    /** The name of this interceptor in HttpClient's exec chain (before the main transport). */
    static final String NAME = "timewait-cancel-exchange";

    @Override
    public void execute(
        HttpRequest request,
        AsyncEntityProducer entityProducer,
        AsyncExecChain.Scope scope,
        AsyncExecChain chain,
        AsyncExecCallback callback) throws HttpException, IOException {
      if (!(scope.cancellableDependency instanceof Handles)) {
        chain.proceed(request, entityProducer, scope, callback);
        return;
      }
      Handles handles = (Handles) scope.cancellableDependency;
      handles.exchangeThread = Thread.currentThread();
      try {
        chain.proceed(request, entityProducer, scope, callback);
      } finally {
        handles.exchangeThread = null;
      }
    }
  }

  /**
   * One attempt's cancel handles: the exchange's and the newest of the setup's (lease, connect).
   * The main transport stage hands in one handle per attempt; were it to hand in more, the newest
   * would stand, as on HttpClient's own Future.
   */
  static final class Handles implements CancellableDependency {
    /**
     * What {@link #setup} holds once the handles were cancelled: a flag of its own would take this
     * object, one per call, from 32 to 40 bytes.
     */
    private static final Cancellable CANCELLED = () -> false;

    private final CancellableDependency call;
    private final Runnable afterSetupCancel;
    /** The thread on which the main transport stage runs now, if it does. */
    volatile Thread exchangeThread;
    private Cancellable setup;
    private Cancellable exchange;

    Handles(CancellableDependency call, Runnable afterSetupCancel) {
      this.call = call;
      this.afterSetupCancel = afterSetupCancel;
    }

    @Override
    public void setDependency(Cancellable handle) {
      boolean ofExchange = exchangeThread == Thread.currentThread();
      boolean cancelNow;
      synchronized (this) {
        cancelNow = setup == CANCELLED || call.isCancelled();
        if (!cancelNow) {
          if (ofExchange) {
            exchange = handle;
          } else {
            setup = handle;
          }
        }
      }
      if (cancelNow) {
        handle.cancel();
        if (!ofExchange) {
          afterSetupCancel.run();
        }
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (this) {
        if (setup == CANCELLED) {
          return true;
        }
      }
      return call.isCancelled();
    }

    @Override
    public boolean cancel() {
      Cancellable handle;
      boolean ofSetup;
      synchronized (this) {
        if (setup == CANCELLED) {
          return false;
        }
        ofSetup = exchange == null;
        handle = ofSetup ? setup : exchange;
        setup = CANCELLED;
        exchange = null;
      }
      if (handle != null) {
        handle.cancel(); // outside the lock: it runs HttpClient's failure path
        if (ofSetup) {
          afterSetupCancel.run();
        }
      }
      return true;
    }
  }
}
