package dev.timewait.testing;

import dev.timewait.CloseStats;
import dev.timewait.internal.Preconditions;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a client's call for a contract on a caller thread of the kit's own, and fails the test
 * when the call has not ended within its bound. The contracts call the implementor's client,
 * whose timeouts are the implementor's to set: without this, a client that waits for ever (no
 * read timeout, a pool that never hands out a connection) would hang the build instead of failing
 * one test. A call that overruns is interrupted and its thread (a daemon) left to end when the
 * call does; the test thread itself only waits, so what the contracts compare across a test
 * (thread sets, the kernel's table) is unchanged. Thread-safe.
 */
final class BoundedCalls {
  /** The longest bound a call may have: {@link Leaks#MAX_WAIT}. */
  private static final Duration MAX_BOUND = Leaks.MAX_WAIT;

  /**
   * The caller threads, shared by every contract in the JVM: made on demand, daemons, and gone
   * after 10 s idle, so that a test run ends with none of them.
   */
  private static final ExecutorService CALLERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
      10, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "timewait-contract-caller");
        t.setDaemon(true);
        return t;
      });

  private BoundedCalls() {}

  /**
   * Runs {@code call} on a caller thread and returns what it returns, or throws what it throws
   * (an {@link Exception} or an {@link Error} as it is).
   *
   * @param bound the longest the call may take, more than zero and at most {@link Leaks#MAX_WAIT}
   * @param call the call
   * @param <T> what the call returns
   * @return what the call returned
   * @throws AssertionError if the call has not ended within {@code bound} ("call hung for more
   *     than ...")
   * @throws InterruptedException if the waiting thread is interrupted (the call is interrupted too)
   * @throws Exception what the call threw
   */
  static <T> T within(Duration bound, Callable<T> call) throws Exception {
    long boundNanos = Preconditions.checkPositive(bound, MAX_BOUND, "bound").toNanos();
    Preconditions.checkNotNull(call, "call");
    Future<T> future = CALLERS.submit(call);
    try {
      return future.get(boundNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new AssertionError("call hung for more than " + bound, e);
    } catch (InterruptedException e) {
      future.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception exception) {
        throw exception;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /**
   * {@code client} with each call bounded by {@code bound}: {@code get}, {@code exchange} and
   * {@code close} run through {@link #within}; {@code start} hands back the client's own call,
   * whose {@code await} takes its own bound.
   *
   * @param client the implementor's client
   * @param bound the longest any one call may take
   * @return the client, bounded
   */
  static FaultClient bounded(FaultClient client, Duration bound) {
    Preconditions.checkNotNull(client, "client");
    Preconditions.checkPositive(bound, MAX_BOUND, "bound");
    return new FaultClient() {
      @Override
      public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
          throws Exception {
        return within(bound, () -> client.exchange(method, uri, headers, body));
      }

      @Override
      public int get(URI uri) throws Exception {
        return within(bound, () -> client.get(uri));
      }

      @Override
      public InFlight start(URI uri) {
        return client.start(uri);
      }

      @Override
      public CloseStats stats() {
        return client.stats();
      }

      @Override
      public void close() throws Exception {
        within(bound, () -> {
          client.close();
          return null;
        });
      }

      @Override
      public String toString() {
        return client.toString();
      }
    };
  }
}
