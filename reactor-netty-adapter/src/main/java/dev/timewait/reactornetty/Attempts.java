package dev.timewait.reactornetty;

import dev.timewait.spi.Counting;
import dev.timewait.spi.UnansweredRetry;
import io.netty.channel.Channel;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.channel.AbortedException;
import reactor.netty.channel.ChannelOperations;
import reactor.util.context.Context;

/**
 * Every configured client's {@code HttpClient.mapConnect}: the Mono it maps connects, sends the
 * request and emits the exchange's connection once the response head arrived. Each subscription
 * is one {@link Attempt}, which is both the subscriber of that Mono and an entry of its Reactor
 * context; the exchange handler binds the attempt to the exchange as its request goes out. The
 * attempt then does three things:
 *
 * <ul>
 *   <li><b>Closes a connection that went astray.</b> An attempt that ends without handing its
 *       downstream a connection (cancelled, completed empty, or failed) disposes the exchange it
 *       bound, if that exchange still holds its channel: Reactor Netty 1.3 can drop the
 *       connection of a call cancelled as its response head arrives (its {@code retryWhen}
 *       discards it; docs/reactor-netty.md "Cancel"), and so can an operator of the user's own
 *       {@code mapConnect} upstream of this one; nobody owns such a connection, which would stay
 *       open and, in a pool, acquired. The exchange is incomplete, so the close resets.
 *   <li><b>Retries an unanswered request</b> (pooled keep-alive with {@code retryUnanswered}): an
 *       error before the response head on a reused connection, with no HTTP byte of a response,
 *       or a request the exchange handler held back unsent (the peer had closed the connection),
 *       or a request whose head never reached the channel because the peer closed the
 *       connection while its body was being made (Reactor Netty's "BEFORE send"),
 *       subscribes once more when {@link UnansweredRetry} allows it, which sends the request
 *       again on another connection and re-subscribes its body publisher, as Reactor Netty's own
 *       retry and redirects do. Only where the failed request is the subscription's first (a
 *       new subscription starts the call over, from the request before any redirect), its body
 *       went out with its head (not streamed after it), and the failure is no timeout.
 *   <li><b>Acquires once more in a new pool</b> (a pooled provider): an acquire that failed with
 *       "Pool has been shut down" before any request went out, just after the {@link PoolSweep}
 *       disposed a pool, was waiting in that pool for a new connection whose channel its event
 *       loop had not yet initialised (the sweep's grace is one idle timeout). Nothing was sent,
 *       so any method goes again.
 * </ul>
 *
 * <p>One object per request, where Reactor's operators cost more: its {@code doOnDiscard}, which
 * did the first part before, an operator, its subscriber, two lambdas and a context entry per
 * request (242 of the 484 bytes the adapter added per pooled request; docs/benchmarks.md,
 * session 25), and {@code defer}, {@code contextWrite} and {@code onErrorResume} for the retry
 * six objects more.
 */
final class Attempts implements Function<Mono<? extends Connection>, Mono<? extends Connection>> {
  private final Connections connections;

  Attempts(Connections connections) {
    this.connections = connections;
  }

  @Override
  public Mono<? extends Connection> apply(Mono<? extends Connection> exchange) {
    // Mono is covariant in what it emits, so the exchange is a Mono<Connection> as it stands.
    @SuppressWarnings("unchecked")
    Mono<Connection> once = (Mono<Connection>) exchange;
    return new Exchange(once, connections);
  }

  /**
   * Binds the attempt of the request about to be written on {@code state}'s channel, if the
   * request came through a configured client's {@code mapConnect}. Event loop.
   */
  static void bind(ChannelOperations<?, ?> operations, ChannelState state, String method,
      boolean streamedBody) {
    Attempt attempt = operations.currentContext().getOrDefault(Attempt.class, null);
    if (attempt != null) {
      attempt.bind(operations, state, method, streamedBody);
    }
  }

  /** The exchange with its attempt: a new {@link Attempt} per subscription. */
  static final class Exchange extends Mono<Connection> {
    private final Mono<Connection> once;
    private final Connections connections;

    Exchange(Mono<Connection> once, Connections connections) {
      this.once = once;
      this.connections = connections;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Connection> actual) {
      subscribeGated(once, new Attempt(actual, once, connections), connections.sweep);
    }
  }

  /**
   * Subscribes {@code attempt} to {@code once} inside the pool sweep's gate, if the client's
   * provider pools: Reactor Netty looks the destination's pool up and asks it for a connection
   * inside this call, and a disposal in between fails the acquire ("Pool has been shut down") or
   * leaves it waiting for ever. (A new connection is counted by the sweep at its channel's init,
   * later, on its event loop: the sweep's grace period covers that; {@link PoolSweep}.)
   */
  static void subscribeGated(Mono<Connection> once, Attempt attempt, PoolSweep sweep) {
    if (sweep == null) {
      once.subscribe(attempt);
      return;
    }
    long stamp = sweep.enter();
    try {
      once.subscribe(attempt);
    } finally {
      sweep.exit(stamp);
    }
  }

  /**
   * One subscription's exchange, sent at most twice: the subscriber of the exchange's Mono (each
   * time), the subscription its downstream sees (once), and its own context entry.
   *
   * <p>Thread-safe: signals come serially from the exchange's Mono; {@code request} and {@code
   * cancel} may come from any thread, and a cancel that races a retry's subscription cancels it
   * (both sides write, then read the other's volatile field); so does a cancel that races the
   * binding (the one that comes second sees the other and closes). The binding is written by the
   * connection's event loop before the failure that reads it is signalled.
   */
  static final class Attempt implements CoreSubscriber<Connection>, Subscription {
    private final CoreSubscriber<? super Connection> actual;
    private final Mono<Connection> once;
    private final Connections connections;
    private final Context context;
    private volatile Subscription upstream;
    private volatile boolean requested;
    private volatile boolean cancelled;
    /** A connection went downstream: from then on it is the caller's, cancelled or not. */
    private volatile boolean delivered;
    private boolean retried;
    /** The exchange whose request went out last for this attempt, or null. */
    private volatile ChannelOperations<?, ?> operations;
    private volatile ChannelState state;
    private volatile String method;
    /**
     * Requests bound in this subscription: more than one is a redirect Reactor Netty followed (or
     * its own retry of a request it never sent). A subscription sends the call's first request,
     * so after a redirect it would send that again (a POST answered 303 and then a GET that
     * failed: the POST once more), not the failed one: no retry then.
     */
    private volatile int binds;
    private volatile boolean reused;
    /**
     * The request streams its body after its head: chunked, or of a length the caller declared
     * for a {@code Flux}. A retry re-runs the request's send function, which subscribes to its
     * body again: a body Reactor Netty writes with the head (a {@code Mono} send, WebClient's
     * {@code bodyValue}) is made again, but a streamed one may come from a publisher that cannot
     * be subscribed twice (a hot or one-shot source: an error, or an empty body sent as the whole;
     * of declared length, a head whose body never comes, and both sides wait).
     */
    private volatile boolean streamedBody;
    private volatile long readMark;

    Attempt(CoreSubscriber<? super Connection> actual, Mono<Connection> once, Connections connections) {
      this.actual = actual;
      this.once = once;
      this.connections = connections;
      this.context = actual.currentContext().put(Attempt.class, this);
    }

    void bind(ChannelOperations<?, ?> operations, ChannelState state, String method,
        boolean streamedBody) {
      this.binds = binds + 1; // one subscription's requests go out one after another
      this.method = method;
      this.streamedBody = streamedBody;
      this.reused = state.requests > 0; // bound before this request is counted
      this.readMark = state.bytesRead;
      this.state = state;
      this.operations = operations;
      if (cancelled && !delivered) {
        closeIfHeld(); // a cancel that read no binding a moment ago
      }
    }

    boolean mayRetry(Throwable error) {
      ChannelState s = state;
      if (s == null) {
        // Never bound: no request head reached the channel in this subscription (each passes the
        // exchange handler on its way to the codec), so none after a redirect either. Reactor
        // Netty says "BEFORE send" only where it had marked nothing of the request sent
        // (HttpClientOperations.onInboundClose: a body sent with its head had not come), so
        // nothing went out: any request goes once more, as one held back unsent below, and as
        // the other adapters resend a request none of which went out. (Which connection it was
        // given is not known here: an observer of Reactor Netty's REQUEST_PREPARED would tell,
        // at 55-90 bytes and about 4% more client CPU per pooled request, in one run of the cost
        // pair.)
        // Not where the client's connections go without the HTTP/1.1 codec (HTTP/2): there no
        // head is ever bound, a redirect's included, and "never bound" tells nothing.
        return connections.retryUnanswered && !connections.withoutHttp11Codec
            && error instanceof AbortedException && AbortedException.isConnectionReset(error)
            && !connections.isShutDown() && UnansweredRetry.mayResendUnsent(true, retried);
      }
      if (!connections.retryUnanswered || binds > 1) {
        return false;
      }
      if (s.requestNotSent) {
        // Held back before its head was written: Reactor Netty subscribes to a body that streams
        // after the head only once the head's write succeeded (NettyOutbound.then: the head's
        // Mono, then the body), so none of it was taken; a body sent with the head is made again.
        return UnansweredRetry.mayResendUnsent(true, retried);
      }
      return UnansweredRetry.mayRetry(method, !streamedBody, reused, s.bytesRead == readMark, retried);
    }

    /**
     * Disposes the bound exchange if it still holds its channel (it has not terminated, and was
     * not released to a pool, where another exchange may have the channel now): checked on the
     * channel's event loop, where Reactor Netty changes the channel's operations. A dispose Reactor
     * Netty made already leaves a closed channel, on which this is a no-op.
     */
    private void closeIfHeld() {
      ChannelOperations<?, ?> bound = operations;
      if (bound == null) {
        return;
      }
      // Once the exchange has terminated (released to a pool, or closed), Reactor Netty 1.3's
      // operations answer with a stand-in channel that is never open and has no event loop.
      Channel channel = bound.channel();
      if (!channel.isOpen()) {
        return;
      }
      try {
        channel.eventLoop().execute(() -> {
          if (ChannelOperations.get(channel) == bound) {
            bound.dispose();
          }
        });
      } catch (RejectedExecutionException e) {
        // The event loop was shut down, which closed its channels.
      }
    }

    @Override
    public Context currentContext() {
      return context;
    }

    @Override
    public void onSubscribe(Subscription s) {
      boolean first = upstream == null;
      upstream = s;
      if (first) {
        actual.onSubscribe(this);
      } else if (cancelled) {
        s.cancel();
      } else if (requested) {
        s.request(Long.MAX_VALUE); // a Mono: the one value downstream asked for
      }
    }

    @Override
    public void request(long n) {
      requested = true;
      upstream.request(n);
    }

    @Override
    public void cancel() {
      cancelled = true;
      upstream.cancel();
      if (!delivered) {
        closeIfHeld();
      }
    }

    @Override
    public void onNext(Connection connection) {
      delivered = true;
      actual.onNext(connection);
    }

    @Override
    public void onError(Throwable error) {
      if (!delivered) {
        closeIfHeld();
      }
      PoolSweep sweep = connections.sweep;
      if (!retried && !cancelled && binds == 0 && sweep != null && !connections.isShutDown()
          && sweep.disposedRecently() && isPoolShutdown(error)) {
        // The sweep disposed the destination's pool while this acquire waited for a new
        // connection whose channel the event loop had yet to initialise (held past the sweep's
        // grace of an idle timeout): no request went out, so it goes once more, whatever its
        // method, in a new pool, inside the gate.
        retried = true;
        subscribeGated(once, this, sweep);
        return;
      }
      // A timeout (Reactor Netty's responseTimeout: Netty's ReadTimeoutException) is the caller's
      // bound, not the peer's close: the server may still be working on the request.
      if (retried || cancelled || UnansweredRetry.isTimeout(error)
          || error instanceof io.netty.handler.timeout.TimeoutException || !mayRetry(error)) {
        actual.onError(error);
        return;
      }
      // Once more, on another connection: the pool hands out no connection it saw fail.
      retried = true;
      state = null;
      operations = null;
      binds = 0;
      Counting.staleRetry(connections.accounting);
      subscribeGated(once, this, connections.sweep); // a new acquire, as in Exchange.subscribe
    }

    /**
     * reactor-pool's "Pool has been shut down", which Reactor Netty shades into an internal package
     * (no public type to test for): told by its class's simple name, on the error or a cause.
     */
    private static boolean isPoolShutdown(Throwable error) {
      Throwable t = error;
      for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
        if (t.getClass().getSimpleName().equals("PoolShutdownException")) {
          return true;
        }
      }
      return false;
    }

    @Override
    public void onComplete() {
      if (!delivered) {
        closeIfHeld();
      }
      actual.onComplete();
    }
  }
}
