package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultContract;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/** The fault contract on OkHttp configured by {@link TimeWaitOkHttp}. */
class OkHttpFaultTest extends FaultContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return new OkHttpFaultClient(strategy, accounting, timeout);
  }

  /**
   * OkHttp's own shutdown lets calls that are running finish, by design, and neither it nor
   * Dispatcher.cancelAll() reaches a call whose response body is being read after execute()
   * returned: such a call ends at its read timeout, with or without timewait (reported with the
   * raw client too, issue 20). TimeWaitOkHttp.shutdown keeps OkHttp's semantics.
   */
  @Override
  protected void assumeSupported(Case contractCase) {
    if (contractCase == Case.CLIENT_CLOSE_MID_BODY) {
      Assumptions.abort("OkHttp: shutdown lets running calls finish; a body being read ends at"
          + " its read timeout, as with the raw client");
    }
  }
}
