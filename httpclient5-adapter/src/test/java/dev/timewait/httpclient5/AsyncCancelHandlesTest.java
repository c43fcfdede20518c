package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.ComplexFuture;
import org.junit.jupiter.api.Test;

/**
 * The cancel handles that {@link AsyncCancelExec} gives a call's later stages: a cancel reaches
 * every handle handed in, whatever their order, and a handle handed in after the cancel is
 * cancelled at once. The network side (a cancel closes the exchange's connection, on new and
 * reused connections) is the fault contract's, in {@link AsyncFaultTest}.
 */
class AsyncCancelHandlesTest {
  private final List<String> cancelled = new ArrayList<>();

  private Cancellable handle(String name) {
    return () -> {
      cancelled.add(name);
      return true;
    };
  }

  @Test
  void aCancelOfTheCallReachesTheExchangeEvenWhenTheLeaseHandedItsHandleInLast() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = new AsyncCancelExec.Handles(call);
    call.setDependency(handles);
    // HttpClient 5.6 on an idle pooled connection: the exchange starts inside the lease call.
    handles.setDependency(handle("exchange"));
    handles.setDependency(handle("lease"));

    call.cancel(true);

    assertThat(cancelled).containsExactly("lease", "exchange");
    assertThat(handles.isCancelled()).isTrue();
  }

  @Test
  void aHandleHandedInAfterTheCancelIsCancelledAtOnce() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = new AsyncCancelExec.Handles(call);
    call.setDependency(handles);
    call.cancel(true);

    handles.setDependency(handle("connect"));

    assertThat(cancelled).containsExactly("connect");
  }

  @Test
  void aCallCancelledBeforeItsHandlesWereSetCancelsThemAsTheyComeAndOnlyOnce() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    call.cancel(true);
    AsyncCancelExec.Handles handles = new AsyncCancelExec.Handles(call);
    call.setDependency(handles); // a done Future cancels a new dependency at once

    handles.setDependency(handle("lease"));
    assertThat(handles.cancel()).as("a second cancel does nothing").isFalse();

    assertThat(cancelled).containsExactly("lease");
  }

  @Test
  void manyHandlesAreAllKept() {
    ComplexFuture<Object> call = new ComplexFuture<>(null);
    AsyncCancelExec.Handles handles = new AsyncCancelExec.Handles(call);
    call.setDependency(handles);
    for (int i = 0; i < 7; i++) {
      handles.setDependency(handle("h" + i));
    }

    handles.cancel();

    assertThat(cancelled).containsExactly("h6", "h5", "h4", "h3", "h2", "h1", "h0");
    assertThat(call.isCancelled()).as("the handles do not cancel the call itself").isFalse();
  }
}
