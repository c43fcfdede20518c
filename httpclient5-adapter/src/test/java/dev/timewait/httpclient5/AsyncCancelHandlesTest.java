package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.ComplexFuture;
import org.junit.jupiter.api.Test;

/**
 * The cancel handles that {@link AsyncCancelExec} gives a call's later stages: a cancel reaches
 * the exchange whatever the order of the handles, else the newest setup handle (never a connect
 * that a later setup handle replaced), and a handle handed in after the cancel is cancelled at
 * once; once a setup handle's cancel returns, the registry is swept (the connect it reached may
 * have completed as it was cancelled: {@link AsyncConnectionRegistryTest}). The network side (a cancel closes the exchange's connection, on new and reused
 * connections) is the fault contract's, in {@link AsyncFaultTest}.
 */
class AsyncCancelHandlesTest {
  private final List<String> cancelled = new CopyOnWriteArrayList<>();

  private Cancellable handle(String name) {
    return () -> {
      cancelled.add(name);
      return true;
    };
  }

  private AsyncCancelExec.Handles handlesOf(ComplexFuture<Object> call) {
    AsyncCancelExec.Handles handles =
        new AsyncCancelExec.Handles(call, () -> cancelled.add("sweep"));
    call.setDependency(handles);
    return handles;
  }

  /** What the main transport stage hands in, as {@link AsyncCancelExec.Exchange} marks it. */
  private static void handInAsTheExchange(AsyncCancelExec.Handles handles, Cancellable handle) {
    handles.exchangeThread = Thread.currentThread();
    try {
      handles.setDependency(handle);
    } finally {
      handles.exchangeThread = null;
    }
  }

  @Test
  void aCancelOfTheCallReachesTheExchangeEvenWhenTheLeaseHandedItsHandleInLast() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = handlesOf(call);
    // HttpClient 5.6 on an idle pooled connection: the exchange starts inside the lease call.
    handInAsTheExchange(handles, handle("exchange"));
    handles.setDependency(handle("lease"));

    call.cancel(true);

    assertThat(cancelled).containsExactly("exchange");
    assertThat(handles.isCancelled()).isTrue();
  }

  @Test
  void anExchangeStartedOnTheReactorWhileTheCallerHandsInTheConnectIsStillTheExchange()
      throws InterruptedException {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = handlesOf(call);
    Thread reactor = new Thread(() -> handInAsTheExchange(handles, handle("exchange")));
    reactor.start();
    reactor.join();
    handles.setDependency(handle("connect"));
    handles.setDependency(handle("lease"));

    call.cancel(true);

    assertThat(cancelled).containsExactly("exchange");
  }

  @Test
  void beforeTheExchangeOnlyTheNewestSetupHandleIsCancelledNeverAConnectItReplaced() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = handlesOf(call);
    handles.setDependency(handle("connect"));
    handles.setDependency(handle("lease"));

    call.cancel(true);
    handInAsTheExchange(handles, handle("exchange")); // the connect completes later

    assertThat(cancelled).containsExactly("lease", "sweep", "exchange");
  }

  @Test
  void aCallCancelledBeforeItsHandlesWereSetCancelsThemAsTheyComeAndOnlyOnce() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    call.cancel(true);
    AsyncCancelExec.Handles handles = handlesOf(call); // a done Future cancels it at once

    handles.setDependency(handle("lease"));
    assertThat(handles.cancel()).as("a second cancel does nothing").isFalse();

    assertThat(cancelled).containsExactly("lease", "sweep");
  }

  @Test
  void aCancelThatReachesAConnectSweepsTheRegistryOnceTheCancelHasReturned() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = handlesOf(call);
    handles.setDependency(handle("connect"));

    call.cancel(true);

    assertThat(cancelled).containsExactly("connect", "sweep");
  }

  @Test
  void theHandlesDoNotCancelTheCallItself() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = handlesOf(call);
    handInAsTheExchange(handles, handle("exchange"));

    handles.cancel();

    assertThat(cancelled).containsExactly("exchange");
    assertThat(call.isCancelled()).isFalse();
  }
}
