package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.StaleConnectionContract;
import java.time.Duration;

/** The stale-connection contract on OkHttp configured by {@link TimeWaitOkHttp}, retries off. */
class OkHttpStaleConnectionTest extends StaleConnectionContract {
  @Override
  protected FaultClient newClientWithoutRetries(PooledKeepAlive strategy, CloseAccounting accounting) {
    return new OkHttpFaultClient(strategy, accounting, Duration.ofSeconds(10), false);
  }

  @Override
  protected FaultClient newClientWithoutRetries(
      PooledKeepAlive strategy, CloseAccounting accounting, Duration responseTimeout) {
    return new OkHttpFaultClient(strategy, accounting, responseTimeout, false);
  }
}
