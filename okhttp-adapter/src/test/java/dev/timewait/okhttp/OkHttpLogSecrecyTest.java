package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LogSecrecyContract;
import java.time.Duration;

/** The log secrecy contract on OkHttp configured by {@link TimeWaitOkHttp}. */
class OkHttpLogSecrecyTest extends LogSecrecyContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return new OkHttpFaultClient(strategy, accounting, timeout);
  }
}
