package dev.timewait.httpclient5;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread for the FIN-wait deadlines of every async client in the JVM; its tasks only
 * close sockets, so one thread keeps up. Thread-safe.
 */
final class FinWaitTimer {
  private FinWaitTimer() {}

  private static final ScheduledThreadPoolExecutor TIMER = create();

  private static ScheduledThreadPoolExecutor create() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "timewait-httpclient5-finwait");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  static Future<?> schedule(Runnable task, long delayNanos) {
    return TIMER.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
  }
}
