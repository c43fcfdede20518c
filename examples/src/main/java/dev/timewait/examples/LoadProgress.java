package dev.timewait.examples;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * What {@code load} prints on stderr while it runs: the TIME_WAIT baseline towards the target
 * before the first request, then about once a second a progress line (requests done, errors, the
 * rate over the last second, client TIME_WAIT now and how many more than before the run).
 *
 * <pre>{@code
 * TIME_WAIT before the run: client 12, server 0 (kernel table)
 * [   1 s]     412 requests, 0 errors,  412 req/s, client TIME_WAIT 424 (+412)
 * }</pre>
 *
 * <p>{@link #OFF} prints nothing (the demo; {@code load --quiet}; {@code load --json} when no
 * terminal is attached, where a tool reads the output). Thread-safe: a ticker prints from its own
 * daemon thread, and the writer is only ever written whole lines, each flushed.
 */
public final class LoadProgress {
  /** How often a running load prints a progress line. */
  public static final Duration INTERVAL = Duration.ofSeconds(1);
  /** Prints nothing. */
  public static final LoadProgress OFF = new LoadProgress(null, INTERVAL);

  private final PrintWriter err;
  private final Duration interval;

  private LoadProgress(PrintWriter err, Duration interval) {
    this.err = err;
    this.interval = interval;
  }

  /** Progress on {@code err}, a line every {@link #INTERVAL}. */
  public static LoadProgress to(PrintWriter err) {
    return to(err, INTERVAL);
  }

  static LoadProgress to(PrintWriter err, Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be > 0, but was " + interval);
    }
    return new LoadProgress(err, interval);
  }

  /** Whether anything is printed. */
  public boolean enabled() {
    return err != null;
  }

  /** Prints the TIME_WAIT counts taken before the first request (null: not countable). */
  void baseline(Integer clientTimeWait, Integer serverTimeWait) {
    if (err == null || clientTimeWait == null) {
      return;
    }
    print("TIME_WAIT before the run: client " + clientTimeWait
        + (serverTimeWait == null ? "" : ", server " + serverTimeWait) + " (kernel table)");
  }

  /**
   * Starts printing a line every interval until the ticker is closed.
   *
   * @param done requests finished so far, successful or not
   * @param errors requests failed so far
   * @param clientTimeWait client TIME_WAIT towards the target now; null when not countable
   * @param clientTimeWaitBefore the baseline; null when not countable
   */
  Ticker start(LongSupplier done, LongSupplier errors, IntSupplier clientTimeWait, Integer clientTimeWaitBefore) {
    if (err == null) {
      return new Ticker(null);
    }
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "load-progress");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    long[] last = {start, 0};
    // Fixed delay, not rate: a stalled machine gets fewer lines, never a burst of catch-up lines.
    timer.scheduleWithFixedDelay(() -> {
      long now = System.nanoTime();
      long n = done.getAsLong();
      double rate = (n - last[1]) * 1e9 / Math.max(1, now - last[0]);
      last[0] = now;
      last[1] = n;
      Integer tw = clientTimeWait == null ? null : clientTimeWait.getAsInt();
      print(line(Duration.ofNanos(now - start), n, errors.getAsLong(), rate, tw, clientTimeWaitBefore));
    }, interval.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
    return new Ticker(timer);
  }

  /** One progress line. */
  static String line(Duration elapsed, long done, long errors, double perSecond, Integer timeWait,
      Integer timeWaitBefore) {
    String s = String.format(Locale.ROOT, "[%4d s] %7d requests, %d errors, %5.0f req/s",
        elapsed.toSeconds(), done, errors, perSecond);
    if (timeWait != null) {
      s += ", client TIME_WAIT " + timeWait;
      if (timeWaitBefore != null) {
        s += String.format(Locale.ROOT, " (%+d)", timeWait - timeWaitBefore);
      }
    }
    return s;
  }

  private void print(String line) {
    synchronized (err) {
      err.println(line);
      err.flush();
    }
  }

  /** Stops the progress lines; closing waits for a line being printed. */
  static final class Ticker implements AutoCloseable {
    private final ScheduledExecutorService timer;

    private Ticker(ScheduledExecutorService timer) {
      this.timer = timer;
    }

    @Override
    public void close() {
      if (timer == null) {
        return;
      }
      timer.shutdownNow();
      try {
        timer.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
