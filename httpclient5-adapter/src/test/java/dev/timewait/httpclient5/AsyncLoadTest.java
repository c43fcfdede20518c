package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LoadContract;
import java.time.Duration;

/** The load contract on HttpClient 5's async client. */
class AsyncLoadTest extends LoadContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReliabilityClients.create(Flavor.ASYNC, strategy, accounting, timeout);
  }
}
