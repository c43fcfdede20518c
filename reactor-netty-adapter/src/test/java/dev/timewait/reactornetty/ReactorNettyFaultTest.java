package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultContract;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/** The fault contract on Reactor Netty configured by {@link TimeWaitReactorNetty}. */
class ReactorNettyFaultTest extends FaultContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReactorNettyClient.configured(strategy, accounting, timeout, true);
  }

  /**
   * Reactor Netty completes a call once the response was read; the FIN wait runs afterwards on the
   * event loop, when Reactor Netty closes the connection. No caller waits for the FIN, so there
   * is no call to cancel and no thread to interrupt during it (as with HttpClient 5's async
   * client). The client's shutdown ends it.
   */
  @Override
  protected void assumeSupported(Case contractCase) {
    if (contractCase == Case.CANCEL_DURING_FIN_WAIT
        || contractCase == Case.INTERRUPT_DURING_FIN_WAIT) {
      Assumptions.abort("Reactor Netty: the call has completed before its FIN wait begins on the"
          + " event loop; nothing waits for the FIN to cancel or interrupt (" + contractCase + ")");
    }
  }

  /** The FIN wait runs on the event loop ({@link FinWait}), not in a caller's thread. */
  @Override
  protected boolean finWaitUnderWay() {
    return TimeWaitReactorNetty.finWaitsUnderWay() > 0;
  }
}
