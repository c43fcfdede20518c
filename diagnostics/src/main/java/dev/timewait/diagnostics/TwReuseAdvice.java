package dev.timewait.diagnostics;

import java.util.List;

/**
 * What {@code tcp_tw_reuse} means for a workload and a destination, written once: the advisor's
 * reason, the "what to change" text and a budget's one-line verdict all come from here. What each
 * value of the setting means on its own is {@link TwReuse#describe()}.
 *
 * <p>The kernel facts behind every sentence: {@code connect()} may take over a local port held by
 * a TIME_WAIT socket only when {@code tcp_tw_reuse} covers the destination (1: all, 2: loopback
 * only), when BOTH ends sent TCP timestamps on that connection (PAWS then tells old segments from
 * new), and when the TIME_WAIT is older than {@code tcp_tw_reuse_delay} (1 s where the kernel has
 * no such setting). Otherwise a TIME_WAIT holds its port for the full {@link
 * KernelSettings#TIME_WAIT_SECONDS}. Stateless and thread-safe.
 */
final class TwReuseAdvice {
  private TwReuseAdvice() {}

  /**
   * Whether {@code tcp_tw_reuse} helps this workload; adds the advisor's reason either way.
   * {@code reuse} and {@code timestamps} are known here (the advisor assumed Linux's defaults for
   * unknown ones).
   */
  static boolean helps(
      TwReuse reuse, TcpTimestamps timestamps, Workload workload, List<String> reasons) {
    if (reuse == TwReuse.OFF) {
      reasons.add("tcp_tw_reuse=0: the kernel never reuses TIME_WAIT ports, so each one stays"
          + " held for 60 s.");
      return false;
    }
    if (reuse == TwReuse.LOOPBACK_ONLY && !workload.loopbackDestination()) {
      reasons.add("tcp_tw_reuse=2 reuses TIME_WAIT ports only for loopback connections, and this"
          + " destination is not loopback: each TIME_WAIT holds its port for 60 s.");
      return false;
    }
    if (!timestamps.enabled()) {
      reasons.add("tcp_tw_reuse is useless here: tcp_timestamps=0 on this host, and the kernel"
          + " reuses a TIME_WAIT port only when both ends use TCP timestamps.");
      return false;
    }
    if (workload.peerMayDisableTimestamps()) {
      reasons.add("tcp_tw_reuse is useless here: the peer may have TCP timestamps off (load"
          + " balancers often do), and the kernel reuses a TIME_WAIT port only when both ends"
          + " use timestamps. Plan as if each TIME_WAIT holds its port for 60 s.");
      return false;
    }
    reasons.add("tcp_tw_reuse=" + reuse.code() + " applies: with timestamps on both ends the"
        + " kernel may take over a TIME_WAIT port after about 1 s, so far more connections"
        + " per second fit; the strategy still keeps TIME_WAIT off the client.");
    return true;
  }

  /**
   * What to do about {@code tcp_tw_reuse} on this host, for the "what to change" list.
   *
   * @param where the destination in words
   * @param use what to use instead, e.g. "use reset close"
   */
  static String change(KernelSettings settings, String where, Workload workload,
      StrategyAdvice advice, String use) {
    boolean peerMayLackTimestamps = workload.peerMayDisableTimestamps();
    String age = Diagnosis.rate(delaySeconds(settings)) + " s";
    switch (settings.twReuse()) {
      case OFF:
        return "tcp_tw_reuse=0: TIME_WAIT ports are never reused. Setting it to 1 helps only when both"
            + " ends use TCP timestamps" + (peerMayLackTimestamps
                ? ", which a load balancer with timestamps off does not: " + use + " instead."
                : "; " + use + ", which needs no sysctl.");
      case LOOPBACK_ONLY:
        if (!workload.loopbackDestination()) {
          return "tcp_tw_reuse=2 applies only to loopback, not to " + where + "."
              + (peerMayLackTimestamps
                  ? " Against a load balancer with timestamps off even tcp_tw_reuse=1 cannot help: "
                      + use + "."
                  : " tcp_tw_reuse=1 would reuse TIME_WAIT ports older than " + age
                      + " if the peer uses timestamps, but the client would still churn through"
                      + " them: " + use + ".");
        }
        return "tcp_tw_reuse=2 covers this loopback destination"
            + (advice.twReuseHelps()
                ? ": the kernel may take over TIME_WAIT ports older than " + age
                    + ". Nothing to change; " + use + " to keep TIME_WAIT off the client anyway."
                : ", but reuse also needs TCP timestamps on both ends, and "
                    + (settings.timestamps().enabled() ? "the peer may have them off"
                        : "tcp_timestamps=0 here") + ": " + use + ".");
      case ALL:
        if (!advice.twReuseHelps()) {
          return "tcp_tw_reuse=1 is on, but it needs TCP timestamps on both ends, and "
              + (settings.timestamps().enabled() ? "the peer may have them off (load balancers do)"
                  : "this host has them off") + ": it cannot help; " + use + ".";
        }
        return "tcp_tw_reuse=1 may take over TIME_WAIT ports older than " + age + " towards "
            + where
            + " (timestamps on both ends). Nothing to change; " + use + " to keep TIME_WAIT off the"
            + " client anyway.";
      default:
        return "tcp_tw_reuse could not be read: plan as if each TIME_WAIT holds its port for "
            + KernelSettings.TIME_WAIT_SECONDS + " s; " + use + ".";
    }
  }

  /**
   * {@return the least age, in seconds, of a TIME_WAIT that reuse takes over} {@code
   * tcp_tw_reuse_delay} (Linux 6.13+) where the kernel has it; 1 s before.
   */
  static double delaySeconds(KernelSettings settings) {
    return settings.twReuseDelayMillis() > 0 ? settings.twReuseDelayMillis() / 1000.0 : 1.0;
  }

  /** What timestamps off on this host mean for reuse, for the "what to change" list. */
  static String timestampsOff() {
    return "tcp_timestamps=0 on this host, so tcp_tw_reuse can never apply here. Turn it on (1)"
        + " only if you rely on tcp_tw_reuse; timewait's strategies do not need it.";
  }

  /** A port budget's verdict on reuse towards its destination, one line. */
  static String forBudget(boolean mayApply) {
    return mayApply
        ? "may take over TIME_WAIT ports older than 1 s, if the peer uses TCP timestamps too"
        : "does not apply to this destination; TIME_WAIT ports stay held for 60 s";
  }
}
