package dev.timewait.junit5;

import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One check in progress: the destination, the snapshot taken before, and the comparison after.
 * Thread-safe: its methods are synchronized, since a per-class watch may be started by tests
 * that run in parallel.
 */
final class Watch {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitGuard.class);
  private static final long POLL_MILLIS = 10;

  private final GuardConfig config;
  private final TcpTable table;
  private final String span;
  private Destination destination;
  private Counts before;
  private boolean skipped;
  private String lastProblem;

  /** {@code span} names what is checked, for messages: "test foo()" or "class FooTest". */
  Watch(GuardConfig config, TcpTable table, String span) {
    this.config = config;
    this.table = table;
    this.span = span;
  }

  /**
   * Takes the snapshot before, if the destination can be resolved now. Not {@code strict}, a
   * destination not known yet is left for a later call; {@code strict}, it throws.
   */
  synchronized void start(ExtensionContext context, boolean strict) {
    if (before != null || skipped) {
      return;
    }
    if (!table.isSupported()) {
      skipped = true;
      String reason = table.count(dev.timewait.diagnostics.TcpFilter.any()).unsupportedReason().orElse("unsupported");
      String entry = "skipped for " + span + ": cannot read the kernel's TCP table (" + reason + ")";
      log.debug("TIME_WAIT guard {}", entry);
      context.publishReportEntry(TimeWaitGuard.REPORT_KEY, entry);
      return;
    }
    try {
      destination = config.destination.resolve(context);
    } catch (RuntimeException e) {
      if (strict) {
        throw e;
      }
      lastProblem = e.toString();
      log.debug("TIME_WAIT guard for {}: destination not known yet ({}); trying again before the test",
          span, lastProblem);
      return;
    }
    before = count();
    log.debug("TIME_WAIT guard for {} watches {}: before {}", span, destination, before);
  }

  /**
   * Settles, counts again, reports, and throws if the new client TIME_WAIT exceeds the
   * allowance. Nothing if the check was skipped or never started.
   */
  synchronized void finish(ExtensionContext context) {
    if (skipped) {
      return;
    }
    if (before == null) {
      log.debug("TIME_WAIT guard for {} never started{}", span,
          lastProblem == null ? "" : ": " + lastProblem);
      return;
    }
    Counts after = settle();
    if (!after.supported()) {
      // Read before, unreadable now: a count of 0 would pass a test that left TIME_WAIT.
      throw new AssertionFailedError("the kernel's TCP table could not be read after " + span
          + ", so its client TIME_WAIT towards " + destination + " is unknown");
    }
    int newTimeWait = Math.max(0, after.timeWait() - before.timeWait());
    int stillClosing = Math.max(0, after.closing() - before.closing());
    int total = newTimeWait + stillClosing;
    String counted = describe(newTimeWait, stillClosing) + " towards " + destination + " during " + span
        + " (allowed: " + config.allowed + "; client TIME_WAIT in the kernel table before: "
        + before.timeWait() + ", after: " + after.timeWait() + ")";
    context.publishReportEntry(TimeWaitGuard.REPORT_KEY, counted);
    if (total > config.allowed) {
      throw new AssertionFailedError(
          counted + "; the client closed first. Use a timewait strategy, see README#strategies");
    }
    log.debug("TIME_WAIT guard: {}", counted);
  }

  /** Waits, at most the settle bound, until no more client sockets are closing than before. */
  private Counts settle() {
    long deadline = System.nanoTime() + config.settle.toNanos();
    int closingBefore = before.closing();
    Counts now = count();
    while (now.closing() > closingBefore && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = count();
    }
    return now;
  }

  /** The destination's rows now: one scan, summed over its addresses. */
  private Counts count() {
    int timeWait = 0;
    int closing = 0;
    boolean supported = true;
    for (TcpCounts c : table.count(destination.filters())) {
      timeWait += c.timeWait();
      closing += closing(c);
      supported &= c.supported();
    }
    return new Counts(timeWait, closing, supported);
  }

  /** Client sockets towards the destination in TIME_WAIT, and closing (not there yet). */
  private record Counts(int timeWait, int closing, boolean supported) {}

  /** Sockets of a client that closed first and has not reached TIME_WAIT yet. */
  private static int closing(TcpCounts counts) {
    return counts.get(TcpState.FIN_WAIT1) + counts.get(TcpState.FIN_WAIT2) + counts.get(TcpState.CLOSING);
  }

  private String describe(int newTimeWait, int stillClosing) {
    String s = newTimeWait + " new client TIME_WAIT socket" + (newTimeWait == 1 ? "" : "s");
    if (stillClosing > 0) {
      s += String.format(Locale.ROOT, ", and %d more client socket%s still in FIN_WAIT after waiting %d ms,",
          stillClosing, stillClosing == 1 ? "" : "s", config.settle.toMillis());
    }
    return s;
  }
}
