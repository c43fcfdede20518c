package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.IntegrityContract;
import java.time.Duration;

/** The integrity contract on Reactor Netty configured by {@link TimeWaitReactorNetty}. */
class ReactorNettyIntegrityTest extends IntegrityContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReactorNettyClient.configured(strategy, accounting, timeout, true);
  }
}
