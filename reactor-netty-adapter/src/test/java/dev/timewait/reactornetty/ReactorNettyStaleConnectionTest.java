package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.StaleConnectionContract;
import java.time.Duration;

/**
 * The stale-connection contract on Reactor Netty configured by {@link TimeWaitReactorNetty}, with
 * Reactor Netty's own retry ({@code disableRetry}) off.
 */
class ReactorNettyStaleConnectionTest extends StaleConnectionContract {
  @Override
  protected FaultClient newClientWithoutRetries(PooledKeepAlive strategy, CloseAccounting accounting) {
    return ReactorNettyClient.configured(strategy, accounting, Duration.ofSeconds(10), false);
  }

  @Override
  protected FaultClient newClientWithoutRetries(
      PooledKeepAlive strategy, CloseAccounting accounting, Duration responseTimeout) {
    return ReactorNettyClient.configured(strategy, accounting, responseTimeout, false);
  }
}
