package dev.timewait.reactornetty;

import dev.timewait.spi.Counting;
import dev.timewait.spi.UnansweredRetry;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClientRequest;
import reactor.util.context.Context;

/**
 * Pooled keep-alive's unanswered-request retry, through {@code HttpClient.mapConnect}: the Mono it
 * maps connects, sends the request and emits once the response head arrived, so an error from it
 * is an exchange that got no response head. Each subscription carries an {@link Attempt} in its
 * Reactor context; the request hook binds the attempt to its connection (whether it was reused,
 * and the bytes it had read so far). When the exchange fails, {@link UnansweredRetry} decides
 * from the method, the reuse and whether any byte of the response arrived; a retry subscribes
 * once more, which sends the request again on another connection and re-subscribes its body
 * publisher, as Reactor Netty's own retry and redirects do.
 *
 * <p>Thread-safe: an attempt is written by the connection's event loop before the failure that
 * reads it is signalled.
 */
final class RetryUnanswered implements Function<Mono<? extends Connection>, Mono<? extends Connection>> {
  private final Connections connections;

  RetryUnanswered(Connections connections) {
    this.connections = connections;
  }

  @Override
  public Mono<? extends Connection> apply(Mono<? extends Connection> exchange) {
    // Mono is covariant in what it emits, so the exchange is a Mono<Connection> as it stands: no
    // map operator per request to widen it.
    @SuppressWarnings("unchecked")
    Mono<Connection> once = (Mono<Connection>) exchange;
    return Mono.defer(() -> {
      Attempt first = new Attempt(false, once, connections);
      return once.contextWrite(first).onErrorResume(first::retry);
    });
  }

  /** Binds the request's attempt, if any, to the connection it is about to go out on. */
  static void bind(HttpClientRequest request, Connection connection) {
    Attempt attempt = request.currentContextView().getOrDefault(Attempt.class, null);
    ChannelState state = ChannelState.of(connection.channel());
    if (attempt != null && state != null) {
      attempt.bind(state, request.method().name());
    }
  }

  /**
   * One subscription's exchange; also the function that puts it in the subscription's context
   * (one object per request instead of two).
   */
  static final class Attempt implements Function<Context, Context> {
    private final boolean retried;
    private final Mono<Connection> once;
    private final Connections connections;
    private volatile ChannelState state;
    private volatile String method;
    private volatile boolean reused;
    private volatile long readMark;

    Attempt(boolean retried, Mono<Connection> once, Connections connections) {
      this.retried = retried;
      this.once = once;
      this.connections = connections;
    }

    void bind(ChannelState state, String method) {
      this.method = method;
      this.reused = state.requests > 0; // the request hook runs before this request is written
      this.readMark = state.bytesRead;
      this.state = state;
    }

    boolean mayRetry() {
      ChannelState s = state;
      return s != null
          && UnansweredRetry.mayRetry(method, true, reused, s.bytesRead == readMark, retried);
    }

    /** Puts this attempt in the subscription's context, for {@link #bind}. */
    @Override
    public Context apply(Context context) {
      return context.put(Attempt.class, this);
    }

    /** The exchange failed: once more, on another connection, where {@link #mayRetry} allows. */
    Mono<Connection> retry(Throwable error) {
      if (retried || !mayRetry()) {
        return Mono.error(error);
      }
      Counting.staleRetry(connections.accounting);
      return once.contextWrite(new Attempt(true, once, connections));
    }
  }
}
