package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.IntegrityContract;
import java.time.Duration;

/** The integrity contract on HttpClient 5's classic client. */
class ClassicIntegrityTest extends IntegrityContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReliabilityClients.create(Flavor.CLASSIC, strategy, accounting, timeout);
  }
}
