package dev.timewait.junit5;

import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpSocket;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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
  /** Whether this JVM has warned that the guard cannot read the table; tests reset it. */
  static final java.util.concurrent.atomic.AtomicBoolean WARNED_UNREADABLE =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** A client that closed first: in TIME_WAIT, or on its way there. */
  private static final Set<TcpState> WATCHED =
      EnumSet.of(TcpState.TIME_WAIT, TcpState.FIN_WAIT1, TcpState.FIN_WAIT2, TcpState.CLOSING);

  private final GuardConfig config;
  private final TcpTable table;
  private final String span;
  private Destination destination;
  private Snapshot before;
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
      if (WARNED_UNREADABLE.compareAndSet(false, true)) {
        // Once per JVM: a report entry alone (Surefire does not print it) let a guarded test show
        // green on macOS with nothing checked.
        log.warn("TIME_WAIT guard {}; guarded tests in this JVM check nothing (Linux only)", entry);
      } else {
        log.debug("TIME_WAIT guard {}", entry);
      }
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
    before = snapshot();
    if (!before.supported()) {
      skipped = true; // unreadable at the start: nothing to compare with
      String entry = "skipped for " + span + ": cannot read the kernel's TCP table";
      log.debug("TIME_WAIT guard {}", entry);
      context.publishReportEntry(TimeWaitGuard.REPORT_KEY, entry);
      return;
    }
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
    Snapshot after = settle();
    if (!after.supported()) {
      // Read before, unreadable now: a count of 0 would pass a test that left TIME_WAIT.
      throw new AssertionFailedError("the kernel's TCP table could not be read after " + span
          + ", so its client TIME_WAIT towards " + destination + " is unknown");
    }
    int newTimeWait = after.newSince(before, true);
    int stillClosing = after.newSince(before, false);
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

  /** Waits, at most the settle bound, until no client socket that closed since the start is still closing. */
  private Snapshot settle() {
    long deadline = System.nanoTime() + config.settle.toNanos();
    Snapshot now = snapshot();
    while (now.newSince(before, false) > 0 && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = snapshot();
    }
    return now;
  }

  /**
   * The destination's client sockets in TIME_WAIT or closing now, over its addresses, each once.
   * Sockets, not counts: a TIME_WAIT that an earlier test left and that expires during this one
   * would cancel a new one in a difference of counts, and a scan can list a socket twice.
   */
  private Snapshot snapshot() {
    Set<TcpSocket> sockets = new LinkedHashSet<>();
    try {
      for (TcpFilter filter : destination.filters()) {
        sockets.addAll(table.sockets(filter, WATCHED));
      }
    } catch (java.io.UncheckedIOException unreadable) {
      log.debug("TIME_WAIT guard for {}: {}", span, unreadable.toString());
      return new Snapshot(Set.of(), Set.of(), false); // a partial list would look like sockets gone
    }
    Set<List<InetSocketAddress>> connections = new HashSet<>();
    for (TcpSocket s : sockets) {
      connections.add(List.of(s.local(), s.remote()));
    }
    return new Snapshot(sockets, connections, table.isSupported());
  }

  /**
   * Client sockets towards the destination in TIME_WAIT or closing, their connections (local and
   * remote address), and whether the table was read.
   */
  private record Snapshot(Set<TcpSocket> sockets, Set<List<InetSocketAddress>> connections,
      boolean supported) {
    int timeWait() {
      int n = 0;
      for (TcpSocket s : sockets) {
        if (s.state() == TcpState.TIME_WAIT) {
          n++;
        }
      }
      return n;
    }

    /**
     * Sockets in TIME_WAIT ({@code timeWait}) or still closing (not) whose connection (local and
     * remote address) was neither in TIME_WAIT nor closing in {@code earlier}.
     */
    int newSince(Snapshot earlier, boolean timeWait) {
      int n = 0;
      for (TcpSocket s : sockets) {
        if ((s.state() == TcpState.TIME_WAIT) == timeWait
            && !earlier.connections.contains(List.of(s.local(), s.remote()))) {
          n++;
        }
      }
      return n;
    }
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
