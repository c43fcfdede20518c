package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.IntegrityContract;
import java.time.Duration;

/** The integrity contract on OkHttp configured by {@link TimeWaitOkHttp}. */
class OkHttpIntegrityTest extends IntegrityContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return new OkHttpFaultClient(strategy, accounting, timeout);
  }
}
