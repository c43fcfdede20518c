package dev.timewait.reactornetty;

import io.netty.channel.Channel;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.util.context.Context;

/**
 * Closes the connection of an exchange whose caller cancelled after the connection was handed
 * over, if the exchange is still under way when the cancel arrives. Reactor Netty closes such a
 * connection itself when the cancel reaches the response body's subscription; but reactor-core's
 * {@code Mono.flatMap} (3.8, as in Reactor Netty's {@code responseSingle}) can lose a cancel that
 * races the subscription of its inner Mono (its {@code cancel} reads no inner yet, the inner is
 * set, its compare-and-set then fails and it returns), and the body is then read to the end or
 * never: against a stalled response the connection stayed open for good (1 in ~3,000 cancels as
 * the response head arrived, docs/reactor-netty.md "Cancel"). The cancel still reaches this
 * operator, upstream of that {@code flatMap}, so the close is decided here: on the event loop, if
 * the same exchange is still under way, the connection closes, which the socket handler turns
 * into an RST. Otherwise (the exchange ended, or the connection went back to the pool and carries
 * another) nothing happens.
 *
 * <p>One subscriber per request. Signals come serially from upstream; {@code cancel} may come from
 * any thread: it and {@code onNext} each write their own volatile field, then read the other's.
 */
final class CancelGuard extends Mono<Connection> {
  private final Mono<? extends Connection> exchange;

  CancelGuard(Mono<? extends Connection> exchange) {
    this.exchange = exchange;
  }

  @Override
  public void subscribe(CoreSubscriber<? super Connection> actual) {
    exchange.subscribe(new Guard(actual));
  }

  /** The subscriber of one request's exchange, and the subscription its downstream sees. */
  static final class Guard implements CoreSubscriber<Connection>, Subscription {
    private final CoreSubscriber<? super Connection> actual;
    private Subscription upstream;
    private volatile Connection connection;
    private volatile boolean cancelled;
    /** The request count of the connection's state when it was handed over: which exchange. */
    private int exchangeMark;

    Guard(CoreSubscriber<? super Connection> actual) {
      this.actual = actual;
    }

    @Override
    public Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
      upstream = s;
      actual.onSubscribe(this);
    }

    @Override
    public void onNext(Connection handedOver) {
      ChannelState state = handedOver.channel().attr(ChannelState.KEY).get();
      if (state != null) {
        exchangeMark = state.requests;
        connection = handedOver;
        if (cancelled) {
          closeIfUnderWay(handedOver);
        }
      }
      actual.onNext(handedOver);
    }

    @Override
    public void onError(Throwable error) {
      actual.onError(error);
    }

    @Override
    public void onComplete() {
      actual.onComplete();
    }

    @Override
    public void request(long n) {
      upstream.request(n);
    }

    @Override
    public void cancel() {
      cancelled = true;
      upstream.cancel();
      Connection handedOver = connection;
      if (handedOver != null) {
        closeIfUnderWay(handedOver);
      }
    }

    private void closeIfUnderWay(Connection handedOver) {
      Channel channel = handedOver.channel();
      int mark = exchangeMark;
      channel.eventLoop().execute(() -> {
        ChannelState state = channel.attr(ChannelState.KEY).get();
        if (state.requests == mark && state.inExchange && channel.isActive()) {
          channel.close();
        }
      });
    }
  }
}
