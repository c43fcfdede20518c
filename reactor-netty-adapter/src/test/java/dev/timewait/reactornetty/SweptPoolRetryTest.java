package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.resources.ConnectionProvider;

/**
 * The attempt's answer to an acquire that failed with "Pool has been shut down": once more, in a
 * new pool, only where the pool sweep has just disposed a pool and nothing of the request went
 * out. The race itself (a disposal while reactor-pool still holds the acquire) is rare and
 * timing-bound ({@code PoolPerDestinationTest.requestsRacingTheSweepsDisposalOfTheirQuietPoolAreAllAnswered}
 * lost 1 of 300 requests under CI's load): here the exchange's Mono fails as Reactor Netty's does
 * then, with reactor-pool's exception (shaded by Reactor Netty, told by its simple name).
 */
class SweptPoolRetryTest {
  private final PooledKeepAlive strategy = PooledKeepAlive.builder().build();
  private final ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("swept-retry", strategy);
  private final PoolSweep sweep = TimeWaitReactorNetty.sweep(provider);
  private final Connections connections =
      new Connections(strategy, new CloseAccounting(), provider, sweep);
  private final Connection connection = Connection.from(new EmbeddedChannel());
  private final AtomicInteger subscriptions = new AtomicInteger();

  @AfterEach
  void disposeProvider() {
    provider.dispose();
  }

  @Test
  void anAcquireFailedByTheSweepsDisposalIsMadeOnceMore() {
    sweep.noteDisposal();

    assertThat(exchange(1).block(Duration.ofSeconds(5))).isSameAs(connection);
    assertThat(subscriptions).hasValue(2);
  }

  @Test
  void aSecondFailureGoesToTheCallerWithoutAThirdAcquire() {
    sweep.noteDisposal();

    assertThatThrownBy(() -> exchange(2).block(Duration.ofSeconds(5)))
        .isInstanceOf(PoolShutdownException.class);
    assertThat(subscriptions).hasValue(2);
  }

  @Test
  void withoutARecentDisposalByTheSweepThePoolWasTheUsersToShutDown() {
    assertThatThrownBy(() -> exchange(1).block(Duration.ofSeconds(5)))
        .isInstanceOf(PoolShutdownException.class);
    assertThat(subscriptions).hasValue(1);
  }

  @Test
  void aClientShutDownMakesNoSecondAcquire() {
    sweep.noteDisposal();
    connections.shutdown(Duration.ZERO);

    assertThatThrownBy(() -> exchange(1).block(Duration.ofSeconds(5)))
        .isInstanceOf(PoolShutdownException.class);
    assertThat(subscriptions).hasValue(1);
  }

  /** The exchange through the attempt, whose first {@code failures} subscriptions fail as a disposed pool's acquire. */
  private Mono<? extends Connection> exchange(int failures) {
    Mono<Connection> acquire = Mono.defer(() -> subscriptions.incrementAndGet() <= failures
        ? Mono.error(new PoolShutdownException()) : Mono.just(connection));
    return new Attempts(connections).apply(acquire);
  }

  /** As reactor-pool's, which Reactor Netty shades: the attempt goes by the simple name. */
  static final class PoolShutdownException extends RuntimeException {
    PoolShutdownException() {
      super("Pool has been shut down");
    }
  }
}
