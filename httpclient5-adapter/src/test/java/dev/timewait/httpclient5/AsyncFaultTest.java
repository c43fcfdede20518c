package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultContract;
import java.time.Duration;

/** The fault contract on HttpClient 5's async client. */
class AsyncFaultTest extends FaultContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReliabilityClients.create(Flavor.ASYNC, strategy, accounting, timeout);
  }
}
