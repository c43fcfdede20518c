package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.CloseEventContract;
import dev.timewait.testing.FaultClient;
import java.time.Duration;

/**
 * The close-event contract on Reactor Netty configured by {@link TimeWaitReactorNetty}, Reactor
 * Netty's own retry off; the client's close is {@link TimeWaitReactorNetty#shutdown}.
 */
class ReactorNettyCloseEventTest extends CloseEventContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    return ReactorNettyClient.configured(strategy, accounting, Duration.ofSeconds(10), false);
  }
}
