package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The async client's FIN-wait deadlines: each runs once, no sooner than its delay, never once
 * cancelled, and the sweeper's thread ends when idle and comes back for a new one. Bounds here
 * are generous (seconds): they catch a deadline that never runs, not a slow one.
 */
class FinWaitTimerTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void aDeadlineRunsNoSoonerThanItsDelay() throws InterruptedException {
    CountDownLatch ran = new CountDownLatch(1);
    long[] ranAt = new long[1];
    long start = System.nanoTime();
    FinWaitTimer.schedule(() -> {
      ranAt[0] = System.nanoTime();
      ran.countDown();
    }, 50 * MS);
    assertThat(ran.await(5, TimeUnit.SECONDS)).as("ran within 5 s").isTrue();
    assertThat(ranAt[0] - start).isGreaterThanOrEqualTo(50 * MS);
  }

  @Test
  void aCancelledDeadlineNeverRuns() throws InterruptedException {
    AtomicInteger cancelledRuns = new AtomicInteger();
    FinWaitTimer.Deadline cancelled = FinWaitTimer.schedule(cancelledRuns::incrementAndGet, 20 * MS);
    cancelled.cancel();
    CountDownLatch later = new CountDownLatch(1);
    FinWaitTimer.schedule(later::countDown, 100 * MS);
    assertThat(later.await(5, TimeUnit.SECONDS)).as("the later deadline ran within 5 s").isTrue();
    assertThat(cancelled.cancelled()).isTrue();
    assertThat(cancelledRuns.get()).isZero();
  }

  @Test
  void deadlinesOfDifferentDelaysRunInTheOrderTheyFallDue() throws InterruptedException {
    List<Integer> order = new ArrayList<>();
    CountDownLatch all = new CountDownLatch(3);
    for (int delay : new int[] {300, 30, 150}) {
      FinWaitTimer.schedule(() -> {
        synchronized (order) {
          order.add(delay);
        }
        all.countDown();
      }, delay * MS);
    }
    assertThat(all.await(5, TimeUnit.SECONDS)).as("all three ran within 5 s").isTrue();
    synchronized (order) {
      assertThat(order).containsExactly(30, 150, 300);
    }
  }

  @Test
  void theSweeperThreadEndsWhenIdleAndANewDeadlineStartsAnother() throws InterruptedException {
    CountDownLatch first = new CountDownLatch(1);
    FinWaitTimer.schedule(first::countDown, MS);
    assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
    // Nothing pending for longer than the sweeper ticks idle: its thread ends (earlier tests'
    // deadlines may keep it a little longer; 10 s bounds the wait).
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sweeperAlive() && System.nanoTime() - until < 0) {
      Thread.sleep(50);
    }
    assertThat(sweeperAlive()).as("a sweeper thread still alive after 10 s idle").isFalse();
    CountDownLatch second = new CountDownLatch(1);
    FinWaitTimer.schedule(second::countDown, 10 * MS);
    assertThat(second.await(5, TimeUnit.SECONDS)).as("ran within 5 s of a schedule after the exit").isTrue();
  }

  private static boolean sweeperAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.isAlive() && t.getName().equals(FinWaitTimer.THREAD_NAME));
  }

  @Test
  void aTaskThatBlocksDelaysNoOtherDeadline() throws InterruptedException {
    // A deadline's task completes the user's exchange (its FutureCallback) and runs close
    // listeners: one that blocks must not hold up every other FIN wait in the JVM.
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocking = new CountDownLatch(1);
    try {
      FinWaitTimer.schedule(() -> {
        blocking.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, 5 * MS);
      assertThat(blocking.await(5, TimeUnit.SECONDS)).as("the blocking task began within 5 s").isTrue();
      CountDownLatch later = new CountDownLatch(1);
      String[] thread = new String[1];
      FinWaitTimer.schedule(() -> {
        thread[0] = Thread.currentThread().getName();
        later.countDown();
      }, 20 * MS);
      assertThat(later.await(2, TimeUnit.SECONDS)).as("the later deadline ran within 2 s").isTrue();
      assertThat(thread[0]).isNotEqualTo(FinWaitTimer.THREAD_NAME);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aTaskThatBlocksDelaysNoTaskDueInTheSameTick() throws InterruptedException {
    // Two deadlines of the same delay, scheduled together, fall due in one sweep: whichever runs
    // first blocks, and the other must still run (before, a tick's due tasks ran as one batch on
    // one runner, so it waited for the first to return).
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    CountDownLatch second = new CountDownLatch(1);
    Runnable task = () -> {
      if (started.getAndIncrement() == 0) {
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else {
        second.countDown();
      }
    };
    try {
      FinWaitTimer.schedule(task, 30 * MS);
      FinWaitTimer.schedule(task, 30 * MS);
      assertThat(second.await(2, TimeUnit.SECONDS))
          .as("the second task ran within 2 s while the first blocked").isTrue();
    } finally {
      release.countDown();
    }
  }

  @Test
  void slowTasksDueTogetherAreTakenUpByMoreThanOneRunner() throws InterruptedException {
    // 300 tasks of 2 ms each, due in one sweep: one runner would take 600 ms, moving on to a new
    // task every few ms, so the queue's head changed at every tick and a rule that started a
    // runner only for a head stuck a whole tick never did. The oldest task's wait starts one.
    CountDownLatch warm = new CountDownLatch(20); // a cold first task could hold the head a tick
    for (int i = 0; i < 20; i++) {
      FinWaitTimer.schedule(warm::countDown, MS);
    }
    assertThat(warm.await(5, TimeUnit.SECONDS)).isTrue();
    int tasks = 300;
    CountDownLatch done = new CountDownLatch(tasks);
    java.util.Set<String> runners = java.util.concurrent.ConcurrentHashMap.newKeySet();
    for (int i = 0; i < tasks; i++) {
      FinWaitTimer.schedule(() -> {
        runners.add(Thread.currentThread().getName() + "#" + Thread.currentThread().getId());
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        done.countDown();
      }, 30 * MS);
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).as("all %d ran within 10 s", tasks).isTrue();
    // All became ready at once, so the oldest waits longer at every tick: a runner per tick until
    // they are taken (about ten); the stuck-head rule kept one.
    assertThat(runners).as("runner threads").hasSizeGreaterThan(2);
  }

  @Test
  void aFailingTaskDoesNotStopLaterDeadlines() throws InterruptedException {
    FinWaitTimer.schedule(() -> {
      throw new IllegalStateException("a deadline that fails, on purpose");
    }, 5 * MS);
    CountDownLatch later = new CountDownLatch(1);
    FinWaitTimer.schedule(later::countDown, 50 * MS);
    assertThat(later.await(5, TimeUnit.SECONDS)).as("the later deadline ran within 5 s").isTrue();
  }

  @Test
  void manyDeadlinesFromManyThreadsEachRunOnceUnlessCancelled() throws Exception {
    int threads = 4;
    int perThread = 5_000;
    AtomicIntegerArray runs = new AtomicIntegerArray(threads * perThread);
    CountDownLatch kept = new CountDownLatch(threads * perThread / 2);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        done.add(pool.submit(() -> {
          for (int i = 0; i < perThread; i++) {
            int id = base + i;
            FinWaitTimer.Deadline d = FinWaitTimer.schedule(() -> {
              runs.incrementAndGet(id);
              kept.countDown();
            }, (100 + (id % 7) * 5) * MS); // 100 ms at least: the cancel below comes first
            if (id % 2 == 1) {
              d.cancel(); // like a FIN that came before the bound
            }
          }
        }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(kept.await(10, TimeUnit.SECONDS)).as("every kept deadline ran within 10 s").isTrue();
      Thread.sleep(300); // a cancelled one that ran would show by now: the latest was due at 130 ms
      for (int id = 0; id < threads * perThread; id++) {
        assertThat(runs.get(id)).as("runs of deadline %d", id).isEqualTo(id % 2 == 0 ? 1 : 0);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
