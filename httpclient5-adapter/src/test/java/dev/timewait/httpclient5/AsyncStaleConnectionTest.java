package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.StaleConnectionContract;
import java.time.Duration;

/** The stale-connection contract on HttpClient 5's async client, automatic retries off. */
class AsyncStaleConnectionTest extends StaleConnectionContract {
  @Override
  protected FaultClient newClientWithoutRetries(PooledKeepAlive strategy, CloseAccounting accounting) {
    return ReliabilityClients.create(Flavor.ASYNC, strategy, accounting, Duration.ofSeconds(10), false);
  }

  @Override
  protected FaultClient newClientWithoutRetries(
      PooledKeepAlive strategy, CloseAccounting accounting, Duration responseTimeout) {
    return ReliabilityClients.create(Flavor.ASYNC, strategy, accounting, responseTimeout, false);
  }
}
