package dev.timewait.diagnostics;

import dev.timewait.internal.CallbackFailures;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TimeWaitMonitor}'s listeners and the one way they are called: each in turn, a failure
 * logged (at WARN the first time a listener fails, at debug after that, so that a broken listener
 * called every period does not flood the log) and never passed on to the sampler. Thread-safe:
 * listeners may be added and removed while a sample calls them.
 */
final class MonitorListeners {
  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitMonitor.class);

  private final List<TimeWaitMonitor.Listener> listeners;
  private final Set<TimeWaitMonitor.Listener> failed = ConcurrentHashMap.newKeySet();

  MonitorListeners(Collection<TimeWaitMonitor.Listener> initial) {
    this.listeners = new CopyOnWriteArrayList<>(initial);
  }

  void add(TimeWaitMonitor.Listener listener) {
    listeners.add(listener);
  }

  boolean remove(TimeWaitMonitor.Listener listener) {
    boolean removed = listeners.remove(listener);
    if (!listeners.contains(listener)) {
      failed.remove(listener); // else a removed listener that once threw stays reachable
    }
    return removed;
  }

  /** Calls {@code call} on each listener; a listener's exception is logged and ignored. */
  void each(Consumer<TimeWaitMonitor.Listener> call) {
    for (TimeWaitMonitor.Listener l : listeners) {
      try {
        call.accept(l);
      } catch (Throwable e) { // a Kotlin (or @SneakyThrows) one may throw a checked exception too
        CallbackFailures.rethrowFatal(e);
        // An Error too (a test listener's AssertionError, a LinkageError): thrown on, it would
        // end the monitor's thread.
        if (failed.add(l)) {
          LOG.warn("TIME_WAIT monitor listener {} failed; later failures of it are logged at debug",
              l, e);
        } else {
          LOG.debug("TIME_WAIT monitor listener {} failed", l, e);
        }
      }
    }
  }
}
