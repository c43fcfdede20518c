package dev.timewait.examples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * What one load run did over time, for {@code load --report}: a sample every {@link #INTERVAL}
 * (requests and errors so far, the p99 latency of the requests that succeeded since the last
 * sample, client and server TIME_WAIT from the kernel's table), taken by its own daemon thread from
 * counters the load keeps anyway, so the request path does no extra work.
 *
 * <p>Bounded: at most {@link #MAX_SAMPLES} samples. When full, every other sample is dropped (the
 * kept samples' spacing doubles; the sampler still samples every second): the counts are
 * cumulative, so the rates between the kept samples stay exact, and a kept sample's p99 becomes
 * the larger of the two it stands for.
 *
 * <p>Thread-safe: the sampler thread adds, any thread reads a copy.
 */
public final class LoadTimeline {
  /** How often a running load is sampled. */
  public static final Duration INTERVAL = Duration.ofSeconds(1);
  /** The most samples kept: over half an hour at one a second before the kept samples thin out. */
  public static final int MAX_SAMPLES = 2048;

  /**
   * One sample.
   *
   * @param elapsedMs since the load started
   * @param requests requests finished so far, successful or not
   * @param errors requests failed so far
   * @param p99Ms the p99 latency of the requests that succeeded since the previous sample; null if none
   * @param clientTimeWait client TIME_WAIT towards the target now; null when not countable
   * @param serverTimeWait TIME_WAIT on the target's port on this host now; null when not local
   */
  public record Sample(long elapsedMs, long requests, long errors, Double p99Ms, Integer clientTimeWait,
      Integer serverTimeWait) {}

  private final int capacity;
  private final List<Sample> samples = new ArrayList<>();

  /** An empty timeline of at most {@link #MAX_SAMPLES} samples. */
  public LoadTimeline() {
    this(MAX_SAMPLES);
  }

  LoadTimeline(int capacity) {
    if (capacity < 3) {
      throw new IllegalArgumentException("capacity must be >= 3, but was " + capacity);
    }
    this.capacity = capacity;
  }

  /** The samples so far, oldest first: a copy. */
  public synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  /** Adds a sample; when full, first drops every other one but the first (the start). */
  synchronized void add(Sample sample) {
    if (samples.size() == capacity) {
      List<Sample> kept = new ArrayList<>(capacity);
      kept.add(samples.get(0));
      // Keep samples 2, 4, ...: each stands for the interval since the one kept before it, so its
      // p99 is the larger of its own and the dropped one's (the p99 of the union is at most that).
      for (int i = 2; i < samples.size(); i += 2) {
        Sample dropped = samples.get(i - 1);
        Sample s = samples.get(i);
        kept.add(new Sample(s.elapsedMs(), s.requests(), s.errors(), max(dropped.p99Ms(), s.p99Ms()),
            s.clientTimeWait(), s.serverTimeWait()));
      }
      // With an even count the newest has an odd index: keep it, its predecessor was kept.
      if (samples.size() % 2 == 0) {
        kept.add(samples.get(samples.size() - 1));
      }
      samples.clear();
      samples.addAll(kept);
    }
    samples.add(sample);
  }

  private static Double max(Double a, Double b) {
    return a == null ? b : b == null ? a : Double.valueOf(Math.max(a, b));
  }

  /**
   * Starts sampling: one sample now (the start), then one every {@link #INTERVAL} until the
   * returned sampler is closed, which takes a last one.
   *
   * @param succeeded successful requests so far: also the next free slot of {@code latencies}
   * @param failed failed requests so far
   * @param latencies the successful requests' latencies, slot by slot
   * @param clientTimeWait counts client TIME_WAIT now; null when not countable
   * @param serverTimeWait counts server TIME_WAIT now; null when the target is not on this host
   * @param loadStart the load's start, a {@link System#nanoTime()} value: the samples' elapsed times count
   *     from it, on the same clock as the load's duration and its first error's time
   */
  Sampler start(AtomicInteger succeeded, AtomicInteger failed, Latencies latencies, IntSupplier clientTimeWait,
      IntSupplier serverTimeWait, long loadStart) {
    return new Sampler(this, succeeded, failed, latencies, clientTimeWait, serverTimeWait, INTERVAL, loadStart);
  }

  /** Samples a running load on its own daemon thread; closing stops it and takes the last sample. */
  static final class Sampler implements AutoCloseable {
    private final LoadTimeline timeline;
    private final AtomicInteger succeeded;
    private final AtomicInteger failed;
    private final Latencies latencies;
    private final IntSupplier clientTimeWait;
    private final IntSupplier serverTimeWait;
    private final long start;
    private final ScheduledExecutorService timer;
    /** The first latency slot the next sample's p99 reads; only the sampling thread (or close, after it) touches it. */
    private int windowStart;

    Sampler(LoadTimeline timeline, AtomicInteger succeeded, AtomicInteger failed, Latencies latencies,
        IntSupplier clientTimeWait, IntSupplier serverTimeWait, Duration interval) {
      this(timeline, succeeded, failed, latencies, clientTimeWait, serverTimeWait, interval, System.nanoTime());
    }

    Sampler(LoadTimeline timeline, AtomicInteger succeeded, AtomicInteger failed, Latencies latencies,
        IntSupplier clientTimeWait, IntSupplier serverTimeWait, Duration interval, long start) {
      this.start = start;
      this.timeline = timeline;
      this.succeeded = succeeded;
      this.failed = failed;
      this.latencies = latencies;
      this.clientTimeWait = clientTimeWait;
      this.serverTimeWait = serverTimeWait;
      sampleQuietly();
      timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "load-timeline");
        t.setDaemon(true);
        return t;
      });
      // Fixed delay, as the progress lines: a stalled machine gets fewer samples, never a burst.
      timer.scheduleWithFixedDelay(this::sampleQuietly, interval.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
    }

    private synchronized void sample() {
      int ok = succeeded.get();
      long errors = failed.get();
      Double p99 = latencies.windowPercentileMs(windowStart, ok, 99);
      windowStart = ok;
      Integer client = clientTimeWait == null ? null : clientTimeWait.getAsInt();
      Integer server = serverTimeWait == null ? null : serverTimeWait.getAsInt();
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      timeline.add(new Sample(elapsedMs, ok + errors, errors, p99, client, server));
    }

    /**
     * A sample, or none when the kernel's table could not be read this time: the chart shows a
     * gap, and the load goes on (an exception would also end a scheduled task's repeats).
     */
    private void sampleQuietly() {
      try {
        sample();
      } catch (RuntimeException e) {
        // The next sample tries again.
      }
    }

    /** Stops sampling (waiting, bounded, for a sample being taken) and takes the last sample. */
    @Override
    public void close() {
      timer.shutdownNow();
      try {
        timer.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sampleQuietly();
    }
  }
}
