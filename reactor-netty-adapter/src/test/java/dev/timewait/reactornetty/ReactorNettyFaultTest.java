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
    // reactor-core's MonoFlatMap.cancel can lose a cancel that races the response body's
    // subscription (about 1 in 3,000 such cancels here); the exchange then runs to its response
    // timeout. The adapter cannot close on those cancels without resetting WebClient's connections
    // (docs/reactor-netty.md, "Cancel", 2); EarlyCancelTest holds them to a 1 s timeout.
    if (contractCase == Case.CANCEL_AS_THE_RESPONSE_HEAD_COMES) {
      Assumptions.abort("Reactor Netty: a cancel as the response head comes can be lost in"
          + " reactor-core; its connection closes at the response timeout (" + contractCase + ")");
    }
  }

  /** The FIN wait runs on the event loop ({@link FinWait}), not in a caller's thread. */
  @Override
  protected boolean finWaitUnderWay() {
    return TimeWaitReactorNetty.finWaitsUnderWay() > 0;
  }
}
