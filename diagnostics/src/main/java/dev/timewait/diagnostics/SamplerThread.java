package dev.timewait.diagnostics;

import dev.timewait.internal.CallbackFailures;
import dev.timewait.internal.LibraryThreads;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a {@link TimeWaitMonitor}'s daemon thread: started once, runs a sample every
 * period at a fixed rate (a sample longer than the period leaves no backlog), ended by {@link
 * #close()}, which wakes it from its wait and joins it for at most {@link
 * TimeWaitMonitor#CLOSE_TIMEOUT}. A failed sample is logged (WARN once, at debug while it goes on
 * failing) and the next one runs; only a VirtualMachineError ends the thread, and then {@link
 * #isRunning()} says so. Thread-safe.
 */
final class SamplerThread {
  private static final Logger LOG = LoggerFactory.getLogger(TimeWaitMonitor.class);

  private final String name;
  private final Duration period;
  private final Runnable sample;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private Thread thread;
  private boolean closed;
  /** The thread ended without a close (a VirtualMachineError): the monitor no longer runs. */
  private boolean died;
  /** The last sample failed: a failure again is logged at debug, not WARN (sampler thread only). */
  private boolean failing;

  SamplerThread(String name, Duration period, Runnable sample) {
    this.name = name;
    this.period = period;
    this.sample = sample;
  }

  /**
   * Starts the thread unless it runs; starts none where {@code unsupportedReason} gives a reason
   * (asked only when a thread would start).
   *
   * @throws IllegalStateException if closed
   */
  void start(Supplier<String> unsupportedReason, Object destinations) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("monitor is closed");
      }
      if (thread != null) {
        return;
      }
      String reason = unsupportedReason.get();
      if (reason != null) {
        LOG.debug("TIME_WAIT monitor not sampling: {}", reason);
        return;
      }
      // Started by whatever thread adds the first destination (a web request's, it may be): it
      // must keep neither that thread's inheritable thread-locals nor its context class loader
      // (an undeployed application's), as the library's other threads.
      thread = LibraryThreads.newDaemon(name, this::run);
      thread.start();
      LOG.debug("TIME_WAIT monitor {} started: {} every {}", name, destinations, period);
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    try {
      loop();
    } finally {
      lock.lock();
      try {
        died = !closed;
      } finally {
        lock.unlock();
      }
    }
  }

  private void loop() {
    long periodNanos = period.toNanos();
    long next = System.nanoTime();
    while (true) {
      try {
        sample.run();
        failing = false;
      } catch (Throwable e) { // a Kotlin (or @SneakyThrows) one may throw a checked exception too
        CallbackFailures.rethrowFatal(e); // a VirtualMachineError ends the thread: run() notes it
        // A sample that fails once tends to fail every period (as often as every 10 ms): WARN on
        // the first failure after a success, debug while it goes on failing.
        if (!failing) {
          failing = true;
          LOG.warn("TIME_WAIT monitor {}: a sample failed; until one succeeds, further failures are"
              + " logged at debug", name, e);
        } else {
          LOG.debug("TIME_WAIT monitor {}: a sample failed again", name, e);
        }
      }
      next += periodNanos;
      long now = System.nanoTime();
      if (next - now < 0) {
        next = now; // sampling took longer than the period: no backlog
      }
      lock.lock();
      try {
        long wait = next - System.nanoTime();
        while (!closed && wait > 0) {
          wait = wake.awaitNanos(wait);
        }
        if (closed) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
    }
  }

  boolean isRunning() {
    lock.lock();
    try {
      return thread != null && !closed && !died;
    } finally {
      lock.unlock();
    }
  }

  /** Ends the thread and waits for it, bounded; idempotent. */
  void close() {
    Thread t;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      wake.signalAll();
      t = thread;
    } finally {
      lock.unlock();
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(TimeWaitMonitor.CLOSE_TIMEOUT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        LOG.warn("TIME_WAIT monitor thread {} did not end within {}", name,
            TimeWaitMonitor.CLOSE_TIMEOUT);
      } else {
        LOG.debug("TIME_WAIT monitor {} stopped", name);
      }
    }
  }
}
