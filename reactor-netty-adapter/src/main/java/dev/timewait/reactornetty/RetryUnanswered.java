package dev.timewait.reactornetty;

import dev.timewait.spi.Counting;
import dev.timewait.spi.UnansweredRetry;
import java.util.function.Function;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.channel.ChannelOperations;
import reactor.util.context.Context;

/**
 * Pooled keep-alive's unanswered-request retry, through {@code HttpClient.mapConnect}: the Mono it
 * maps connects, sends the request and emits once the response head arrived, so an error from it
 * is an exchange that got no response head. Each subscription is one {@link Attempt}, which is
 * both the subscriber of that Mono and an entry of its Reactor context; the exchange handler
 * binds the attempt to its connection as the request goes out (whether it was reused, and the
 * bytes it had read so far). When the exchange fails, {@link UnansweredRetry} decides from the
 * method, the reuse and whether any byte of the response arrived; a retry subscribes once more,
 * which sends the request again on another connection and re-subscribes its body publisher, as
 * Reactor Netty's own retry and redirects do.
 *
 * <p>One object per request: Reactor's {@code defer}, {@code contextWrite} and {@code
 * onErrorResume} cost six (about 250 bytes) on every request, retried or not.
 */
final class RetryUnanswered implements Function<Mono<? extends Connection>, Mono<? extends Connection>> {
  private final Connections connections;

  RetryUnanswered(Connections connections) {
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
  static void bind(ChannelOperations<?, ?> operations, ChannelState state, String method) {
    Attempt attempt = operations.currentContext().getOrDefault(Attempt.class, null);
    if (attempt != null) {
      attempt.bind(state, method);
    }
  }

  /** The exchange with its retry: a new {@link Attempt} per subscription. */
  static final class Exchange extends Mono<Connection> {
    private final Mono<Connection> once;
    private final Connections connections;

    Exchange(Mono<Connection> once, Connections connections) {
      this.once = once;
      this.connections = connections;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Connection> actual) {
      once.subscribe(new Attempt(actual, once, connections));
    }
  }

  /**
   * One subscription's exchange, sent at most twice: the subscriber of the exchange's Mono (each
   * time), the subscription its downstream sees (once), and its own context entry.
   *
   * <p>Thread-safe: signals come serially from the exchange's Mono; {@code request} and {@code
   * cancel} may come from any thread, and a cancel that races a retry's subscription cancels it
   * (both sides write, then read the other's volatile field). The binding is written by the
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
    private boolean retried;
    private volatile ChannelState state;
    private volatile String method;
    private volatile boolean reused;
    private volatile long readMark;

    Attempt(CoreSubscriber<? super Connection> actual, Mono<Connection> once, Connections connections) {
      this.actual = actual;
      this.once = once;
      this.connections = connections;
      this.context = actual.currentContext().put(Attempt.class, this);
    }

    void bind(ChannelState state, String method) {
      this.method = method;
      this.reused = state.requests > 0; // bound before this request is counted
      this.readMark = state.bytesRead;
      this.state = state;
    }

    boolean mayRetry() {
      ChannelState s = state;
      return s != null
          && UnansweredRetry.mayRetry(method, true, reused, s.bytesRead == readMark, retried);
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
    }

    @Override
    public void onNext(Connection connection) {
      actual.onNext(connection);
    }

    @Override
    public void onError(Throwable error) {
      if (retried || cancelled || !mayRetry()) {
        actual.onError(error);
        return;
      }
      // Once more, on another connection: the pool hands out no connection it saw fail.
      retried = true;
      state = null;
      Counting.staleRetry(connections.accounting);
      once.subscribe(this);
    }

    @Override
    public void onComplete() {
      actual.onComplete();
    }
  }
}
