package dev.timewait.httpclient5;

import dev.timewait.internal.LibraryThreads;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FIN-wait deadlines of every async client in the JVM, on one daemon thread that sweeps them
 * every {@link #TICK_NANOS} while any are pending and hands each tick's due tasks, in the order
 * they fell due, to runner threads. A deadline's task starts about one tick late at most, a tick
 * more for each task ahead of it that blocks; a cancelled one never runs. Thread-safe: schedule
 * and cancel from any thread.
 *
 * <p>Why not a {@code ScheduledThreadPoolExecutor}: its queue signals the timer thread whenever a
 * new task becomes its head, and with one deadline per connection and the server's FIN cancelling
 * it within microseconds the queue is empty at every schedule, so every connection woke the timer
 * thread (measured: futex +3 per request, docs/benchmarks.md section 13). Here a schedule only
 * appends to a lock-free queue and a cancel only clears a field; the thread wakes by itself once
 * per tick while deadlines come, and ends once none has been pending for {@link
 * #IDLE_NANOS_BEFORE_EXIT}; the next schedule starts a new one. So an idle JVM, or a web
 * application undeployed from its server, keeps no thread of ours (the executor's thread lived
 * as long as the class, and with it the class loader).
 *
 * <p>A due task runs on a runner thread, not on the sweeper: it closes a connection and counts the
 * close, which runs the client's close listeners (user code: a metrics registry, a log appender),
 * and one that blocks would hold up every FIN wait of every async client in the JVM. Due tasks go,
 * in the order they fell due, to one queue that runner threads drain; runners are made as needed
 * and end after {@link #RUNNER_KEEP_ALIVE_SECONDS} idle (as OkHttp's dispatcher does). Quick tasks
 * are drained within their tick by one runner, and the next tick reuses its thread; a task left
 * in the queue for a whole tick means every runner is held up, by a task that blocks or behind
 * slow ones, and then one more runner is started, at most one per tick. So a task that blocks
 * delays the tasks behind it, even those due in its own tick, by about one tick. Neither kind of
 * thread inherits its creator's thread-locals, and both take this library's class loader as their
 * context class loader, not their creator's (a web application's).
 */
final class FinWaitTimer {
  private FinWaitTimer() {}

  private static final Logger log = LoggerFactory.getLogger(FinWaitTimer.class);

  /** How often pending deadlines are swept: 10 ms, about the most a deadline runs late. */
  static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  /** How long the sweeper keeps ticking with nothing pending before its thread ends: 1 s. */
  static final long IDLE_NANOS_BEFORE_EXIT = TimeUnit.SECONDS.toNanos(1);
  /** The sweeper thread's name. */
  static final String THREAD_NAME = "timewait-httpclient5-finwait";

  /** How long an idle runner thread lives: 5 s. */
  static final long RUNNER_KEEP_ALIVE_SECONDS = 5;
  /** The runner threads' name. */
  static final String RUNNER_NAME = "timewait-httpclient5-finwait-runner";

  /** Runs due tasks; never shut down (its threads end when idle). */
  private static final ThreadPoolExecutor RUNNERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
      RUNNER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(),
      task -> LibraryThreads.newDaemon(RUNNER_NAME, task));

  /** Due deadlines, in the order they fell due, their tasks not yet taken by a runner. */
  private static final Queue<Deadline> READY = new ConcurrentLinkedQueue<>();
  /** Runners draining {@link #READY} now (each may be held by a task that blocks). */
  private static final AtomicInteger DRAINING = new AtomicInteger();

  /** Scheduled and not yet seen by the sweeper. */
  private static final Queue<Deadline> INCOMING = new ConcurrentLinkedQueue<>();
  /** A sweeper thread runs (or is about to); at most one at a time. */
  private static final AtomicBoolean RUNNING = new AtomicBoolean();

  private static void startSweeper() {
    try {
      LibraryThreads.newDaemon(THREAD_NAME, FinWaitTimer::sweep).start();
    } catch (Throwable t) {
      RUNNING.set(false); // no thread: let the next schedule try again
      throw t;
    }
  }

  /** Runs {@code task} on a runner thread once {@code delayNanos} have passed, unless cancelled. */
  static Deadline schedule(Runnable task, long delayNanos) {
    Deadline deadline = new Deadline(task, System.nanoTime() + delayNanos);
    INCOMING.offer(deadline);
    // Paired with the sweeper's RUNNING.set(false) then INCOMING.isEmpty(): either it sees this
    // deadline and goes on, or this sees it gone and starts another (both volatile, so one of
    // the two orders holds; the compare-and-set lets only one side win).
    if (!RUNNING.get() && RUNNING.compareAndSet(false, true)) {
      startSweeper();
    }
    return deadline;
  }

  /** One scheduled task: cancel it and it never runs. Thread-safe. */
  static final class Deadline {
    private final long atNanos;
    /** Null once cancelled or due: the connection the task holds is released at once. */
    private volatile Runnable task;
    /**
     * The task once due, until a runner takes it; written by the sweeper before it queues this in
     * {@link #READY}, read after (the queue orders them).
     */
    private Runnable ready;
    /** When the sweeper found it due (nanoTime). */
    private long readyAtNanos;

    private Deadline(Runnable task, long atNanos) {
      this.task = task;
      this.atNanos = atNanos;
    }

    /**
     * The task will not run, unless the sweeper has already handed it to a runner (then it runs:
     * tasks check what they end). Any thread; idempotent.
     */
    void cancel() {
      task = null;
    }

    boolean cancelled() {
      return task == null;
    }
  }

  // System.nanoTime() values compare by their difference (they may wrap).
  private static final Comparator<Deadline> BY_TIME = (a, b) -> Long.signum(a.atNanos - b.atNanos);

  private static void sweep() {
    PriorityQueue<Deadline> pending = new PriorityQueue<>(BY_TIME);
    try {
      sweepUntilIdle(pending);
    } catch (Throwable t) {
      // Out of memory, say: the deadlines go back for the sweeper the next schedule starts,
      // instead of staying with this thread and never running (RUNNING stayed true before).
      INCOMING.addAll(pending);
      RUNNING.set(false);
      throw t;
    }
  }

  private static void sweepUntilIdle(PriorityQueue<Deadline> pending) {
    int purgeAbove = 1024;
    long busyAt = System.nanoTime();
    while (true) {
      long now = System.nanoTime();
      Deadline d;
      while ((d = INCOMING.poll()) != null) {
        busyAt = now;
        // Most are cancelled by now (the server's FIN comes within microseconds) and are dropped
        // here unseen.
        if (!d.cancelled()) {
          pending.add(d);
        }
      }
      while ((d = pending.peek()) != null && (d.cancelled() || d.atNanos - now <= 0)) {
        pending.poll();
        Runnable task = d.task;
        d.task = null;
        if (task != null) {
          d.ready = task;
          d.readyAtNanos = now;
          READY.offer(d);
        }
      }
      Deadline head = READY.peek();
      if (head != null) {
        busyAt = now;
        // The oldest ready task has waited a whole tick: every runner is held up, by a task that
        // blocks or behind slow ones (quick ones drain the queue within the tick), so one more
        // runner takes the tasks behind; at most one per tick.
        if (DRAINING.get() == 0 || now - head.readyAtNanos >= TICK_NANOS) {
          startRunner();
        }
      }
      if (pending.size() > purgeAbove) {
        // Cancelled deadlines behind a later head wait for their turn; with long FIN waits and
        // many connections they would pile up, so drop them now and then (amortised: the
        // threshold doubles with what stays).
        pending.removeIf(Deadline::cancelled);
        purgeAbove = Math.max(1024, 2 * pending.size());
      }
      if (!pending.isEmpty()) {
        busyAt = now;
      } else if (now - busyAt >= IDLE_NANOS_BEFORE_EXIT) {
        RUNNING.set(false);
        if (INCOMING.isEmpty() || !RUNNING.compareAndSet(false, true)) {
          return; // nothing pending; a later schedule starts a new sweeper
        }
        busyAt = System.nanoTime(); // a schedule came meanwhile and found this one still running
        continue;
      }
      LockSupport.parkNanos(TICK_NANOS);
    }
  }

  /**
   * Starts a runner (an idle thread's or a new one) on {@link #READY}, counted as draining from
   * now: a thread slow to start is not taken at the next tick for one that never came.
   */
  private static void startRunner() {
    DRAINING.incrementAndGet();
    try {
      RUNNERS.execute(FinWaitTimer::drain);
    } catch (Throwable t) {
      // No thread could be made (out of memory or thread quota): run them here, late rather than
      // never; before the log line, which may fail as well where threads cannot be made.
      drain();
      log.debug("No runner thread for FIN-wait deadlines; ran them on the sweeper", t);
    }
  }

  /**
   * Runs ready tasks until none is left, then counts itself out of {@link #DRAINING}. A task
   * readied just as this ends waits for the next tick, whose sweep finds it waited a tick (or no
   * runner draining) and starts one.
   */
  private static void drain() {
    try {
      Deadline d;
      while ((d = READY.poll()) != null) {
        Runnable task = d.ready;
        d.ready = null;
        runNow(task);
      }
    } finally {
      DRAINING.decrementAndGet();
    }
  }

  private static void runNow(Runnable task) {
    try {
      task.run();
    } catch (Throwable t) {
      // A runner (and the sweeper, in the fallback above) must outlive a failing task.
      log.warn("A FIN-wait deadline failed", t);
    }
  }
}
