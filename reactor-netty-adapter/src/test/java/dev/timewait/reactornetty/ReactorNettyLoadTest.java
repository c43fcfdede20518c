package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LoadContract;
import java.time.Duration;

/** The load contract on Reactor Netty configured by {@link TimeWaitReactorNetty}. */
class ReactorNettyLoadTest extends LoadContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReactorNettyClient.configured(strategy, accounting, timeout, true);
  }
}
