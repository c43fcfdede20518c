package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LogSecrecyContract;
import java.time.Duration;

/** The log secrecy contract on Reactor Netty configured by {@link TimeWaitReactorNetty}. */
class ReactorNettyLogSecrecyTest extends LogSecrecyContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReactorNettyClient.configured(strategy, accounting, timeout, true);
  }
}
