package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultContract;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/** The fault contract on HttpClient 5's async client. */
class AsyncFaultTest extends FaultContract {
  @Override
  protected FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    return ReliabilityClients.create(Flavor.ASYNC, strategy, accounting, timeout);
  }

  /**
   * The async client completes a call's Future before its connection's FIN wait: the caller never
   * waits for the FIN (the wait runs on the I/O reactor, AsyncConnections), so there is no waiting
   * call to cancel or thread to interrupt (measured: the Future is done when the FIN wait begins,
   * and a cancel then is a no-op). A client close ends the wait (its shutdown command).
   */
  @Override
  protected void assumeSupported(Case contractCase) {
    if (contractCase == Case.CANCEL_DURING_FIN_WAIT
        || contractCase == Case.INTERRUPT_DURING_FIN_WAIT) {
      Assumptions.abort("async HttpClient 5: the call has completed before its FIN wait begins;"
          + " nothing waits for the FIN to cancel or interrupt (" + contractCase + ")");
    }
  }

  /** The async FIN wait runs on the I/O reactor (AsyncConnections), not in a caller's thread. */
  @Override
  protected boolean finWaitUnderWay() {
    return AsyncCloser.finWaitsUnderWay() > 0;
  }
}
