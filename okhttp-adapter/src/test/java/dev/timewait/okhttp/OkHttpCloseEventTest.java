package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.CloseEventContract;
import dev.timewait.testing.FaultClient;
import java.time.Duration;

/**
 * The close-event contract on OkHttp configured by {@link TimeWaitOkHttp}, retries off; the
 * client's close is {@link TimeWaitOkHttp#shutdown}.
 */
class OkHttpCloseEventTest extends CloseEventContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    return new OkHttpFaultClient(strategy, accounting, Duration.ofSeconds(10), false);
  }
}
