package dev.timewait.diagnostics;

import java.util.Locale;

/**
 * When a {@link TimeWaitMonitor} warns about a destination and when it recovers: a warning once
 * TIME_WAIT reaches {@code warnShare} of the usable ports, and no other until it fell back under
 * {@link TimeWaitMonitor#RECOVERY_FACTOR} of that level, so a count hovering at the level does
 * not warn every period. Not thread-safe: the monitor calls it under its sample lock.
 */
final class WarningHysteresis {
  /** What one budget did to its destination's state. */
  enum Turn {
    /** TIME_WAIT reached the warn level. */
    WARNED,
    /** TIME_WAIT fell back under the recovery level of a warned destination. */
    RECOVERED,
    /** No change, or the budget was unsupported. */
    NONE
  }

  private final double warnShare;
  private final boolean[] warned;

  WarningHysteresis(double warnShare, int destinations) {
    this.warnShare = warnShare;
    this.warned = new boolean[destinations];
  }

  /** Moves destination {@code i}'s state on by its new budget, and says what changed. */
  Turn judge(int i, PortBudget b) {
    if (!b.supported()) {
      return Turn.NONE;
    }
    double warnLevel = warnShare * b.usablePorts();
    if (!warned[i] && b.timeWait() >= warnLevel) {
      warned[i] = true;
      return Turn.WARNED;
    }
    if (warned[i] && b.timeWait() < TimeWaitMonitor.RECOVERY_FACTOR * warnLevel) {
      warned[i] = false;
      return Turn.RECOVERED;
    }
    return Turn.NONE;
  }

  /** The warning for {@code b}, in plain words with what to change. */
  String message(PortBudget b) {
    return String.format(Locale.ROOT,
        "TIME_WAIT towards %s holds %d of %d usable ephemeral ports (%.0f%%, warning at %.0f%%);"
            + " %d ports left. A client that closes first can sustain only %s new"
            + " connections/s to one destination: let the server close first, reset, or keep"
            + " connections alive (see timewait's CloseStrategy).",
        HostPort.of(b.destination()), b.timeWait(), b.usablePorts(), 100 * b.timeWaitShare(),
        100 * warnShare, b.headroom(), rate(b.sustainableNewConnectionsPerSecond()));
  }

  private static String rate(double perSecond) {
    return String.format(Locale.ROOT, perSecond >= 10 ? "%.0f" : "%.1f", perSecond);
  }
}
