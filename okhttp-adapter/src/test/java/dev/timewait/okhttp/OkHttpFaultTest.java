package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultContract;
import java.time.Duration;

/** The fault contract on OkHttp configured by {@link TimeWaitOkHttp}. */
class OkHttpFaultTest extends FaultContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return new OkHttpFaultClient(strategy, accounting, timeout);
  }
}
