package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.CloseEventContract;
import dev.timewait.testing.FaultClient;
import java.time.Duration;

/** The close-event contract on HttpClient 5's classic client, automatic retries off. */
class ClassicCloseEventTest extends CloseEventContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    return ReliabilityClients.create(Flavor.CLASSIC, strategy, accounting, Duration.ofSeconds(10), false);
  }
}
