package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.Test;

class MonitorListenersTest {

  @Test
  void aListenersFailureNeverReachesTheSamplerAndARemovedOneThatThrewIsNoLongerHeld()
      throws Exception {
    // A listener per test or per tenant, added to and removed from a long-lived monitor: one that
    // threw was kept (to warn once) after its removal, with all it captured.
    MonitorListeners listeners = new MonitorListeners(List.of());
    TimeWaitMonitor.Listener failing = new TimeWaitMonitor.Listener() { // an instance of its own
      @Override
      public void onSample(TimeWaitMonitor.Sample sample) {
        throw new IllegalStateException("listener bug");
      }
    };
    WeakReference<TimeWaitMonitor.Listener> held = new WeakReference<>(failing);
    listeners.add(failing);
    listeners.each(l -> l.onSample(null)); // logged, not thrown
    assertThat(listeners.remove(failing)).isTrue();
    failing = null;
    assertThat(dev.timewait.testsupport.Collected.await(held)).as("the removed listener, collected").isTrue();
  }

  @Test
  void aListenerThrowingACheckedExceptionNeverReachesTheSamplerNorSkipsTheOthers() {
    // A Kotlin listener, or one with Lombok's @SneakyThrows, can throw an IOException Java does
    // not declare: it escaped each(), ended the monitor's thread, and the listeners after it
    // heard nothing.
    MonitorListeners listeners = new MonitorListeners(List.of());
    java.util.concurrent.atomic.AtomicInteger heard = new java.util.concurrent.atomic.AtomicInteger();
    listeners.add(sample -> MonitorListenersTest.<RuntimeException>sneakyThrow(
        new java.io.IOException("a listener's undeclared checked exception")));
    listeners.add(sample -> heard.incrementAndGet());
    listeners.each(l -> l.onSample(null));
    listeners.each(l -> l.onSample(null));
    assertThat(heard).hasValue(2);
  }

  @SuppressWarnings("unchecked")
  static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
    throw (T) t;
  }
}
