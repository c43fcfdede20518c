package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LoadContract;
import java.time.Duration;
import java.util.List;

/**
 * The load contract on Reactor Netty configured by {@link TimeWaitReactorNetty}. Reactor Netty
 * runs the pools' background eviction on one process-wide scheduler whose daemon threads
 * ("reactor-netty-pool-maintenance-N", a {@code ScheduledThreadPoolExecutor} of as many core
 * threads as CPUs, made as tasks come and never disposed) are shared by every pool of the process:
 * one may start during a run and stay, idle, after the pool was disposed.
 */
class ReactorNettyLoadTest extends LoadContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReactorNettyClient.configured(strategy, accounting, timeout, true);
  }

  @Override
  protected List<String> sharedIdleThreadPrefixes() {
    return List.of("reactor-netty-pool-maintenance-");
  }
}
