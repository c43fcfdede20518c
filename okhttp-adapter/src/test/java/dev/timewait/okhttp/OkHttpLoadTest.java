package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.LoadContract;
import java.time.Duration;
import java.util.List;

/**
 * The load contract on OkHttp configured by {@link TimeWaitOkHttp}. OkHttp runs its connection
 * pool's cleanup on a process-wide task runner ("OkHttp TaskRunner" threads) shared by every
 * OkHttpClient; its threads end by themselves 60 s after they idle, so they may still be there,
 * idle, after {@link TimeWaitOkHttp#shutdown}; the same holds for Okio's timeout watchdog.
 */
class OkHttpLoadTest extends LoadContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return new OkHttpFaultClient(strategy, accounting, timeout);
  }

  @Override
  protected List<String> sharedIdleThreadPrefixes() {
    return List.of("OkHttp TaskRunner", "Okio Watchdog");
  }
}
