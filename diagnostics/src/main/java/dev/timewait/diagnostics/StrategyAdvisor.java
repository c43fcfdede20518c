package dev.timewait.diagnostics;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.ServerClose;
import dev.timewait.internal.Preconditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Recommends a {@link CloseStrategy} for a {@link Workload} on a kernel's {@link KernelSettings}:
 * a pure function, which reads nothing and keeps no state. The choice comes from a small table
 * ({@link #RULES}), first match wins:
 *
 * <table>
 *   <caption>The advisor's table</caption>
 *   <tr><th>keep-alive allowed</th><th>RSTs acceptable</th><th>rate</th><th>strategy</th></tr>
 *   <tr><td>yes</td><td>yes</td><td>any</td><td>pooled, retired by reset</td></tr>
 *   <tr><td>yes</td><td>no</td><td>any</td><td>pooled, retired by server close</td></tr>
 *   <tr><td>no</td><td>no</td><td>any</td><td>server-close</td></tr>
 *   <tr><td>no</td><td>yes</td><td>within budget</td><td>server-close</td></tr>
 *   <tr><td>no</td><td>yes</td><td>over budget</td><td>reset</td></tr>
 * </table>
 *
 * <p>"Within budget" means at most {@link #COMFORTABLE_SHARE} of the rate a client that closes
 * first could sustain: {@code usable ports / 60 s}, or {@code usable ports / 1 s} where {@code
 * tcp_tw_reuse} can take over TIME_WAIT ports for this workload. The reasons also say when {@code
 * tcp_tw_reuse} is useless (off, not loopback, timestamps off here or possibly at the peer), and
 * when server close would overflow {@code tcp_max_tw_buckets}.
 *
 * <pre>{@code
 * StrategyAdvice advice = StrategyAdvisor.advise(KernelSettings.read(), Workload.builder()
 *     .keepAliveAllowed(false).newConnectionsPerSecond(2000).resetsAcceptable(true).build());
 * System.out.println(advice.explanation());   // Recommended: reset ...
 * }</pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class StrategyAdvisor {
  /**
   * The share of the sustainable rate up to which a workload counts as within budget: 0.5, so
   * that bursts and other clients on the host still fit.
   */
  public static final double COMFORTABLE_SHARE = 0.5;

  /** The ephemeral range Linux uses by default, assumed where the settings are unknown. */
  public static final PortRange LINUX_DEFAULT_PORT_RANGE = new PortRange(32768, 60999);

  /**
   * One row of the table: {@code null} in a condition matches either value. Immutable and
   * thread-safe.
   *
   * @param name the row's name, reported as {@link StrategyAdvice#rule()}
   * @param keepAliveAllowed the workload's {@link Workload#keepAliveAllowed()}, or null for any
   * @param resetsAcceptable the workload's {@link Workload#resetsAcceptable()}, or null for any
   * @param overBudget whether the rate is over budget, or null for any
   * @param kind the strategy recommended
   * @param retirement for {@code pooled}, how connections retire; null otherwise
   * @param reason why, in plain words
   */
  public record Rule(
      String name,
      Boolean keepAliveAllowed,
      Boolean resetsAcceptable,
      Boolean overBudget,
      CloseStrategy.Kind kind,
      Retirement retirement,
      String reason) {
    boolean matches(Workload w, boolean over) {
      return (keepAliveAllowed == null || keepAliveAllowed == w.keepAliveAllowed())
          && (resetsAcceptable == null || resetsAcceptable == w.resetsAcceptable())
          && (overBudget == null || overBudget == over);
    }
  }

  /** The table, first match wins; it covers every workload. */
  public static final List<Rule> RULES = List.of(
      new Rule("keep-alive, resets acceptable", true, true, null, CloseStrategy.Kind.POOLED, Retirement.RESET,
          "Keep-alive is allowed: a bounded pool reuses a few connections for many requests, and"
              + " RSTs are acceptable, so each retiring connection is reset and neither side"
              + " keeps TIME_WAIT."),
      new Rule("keep-alive, no resets", true, false, null, CloseStrategy.Kind.POOLED, Retirement.SERVER_CLOSE,
          "Keep-alive is allowed: a bounded pool reuses a few connections for many requests;"
              + " RSTs are not acceptable, so each retiring connection asks the server to close"
              + " first (Connection: close on its last request) and TIME_WAIT lands on the"
              + " server."),
      new Rule("no keep-alive, no resets", false, false, null, CloseStrategy.Kind.SERVER_CLOSE, null,
          "Each request needs its own connection and RSTs are not acceptable: send Connection:"
              + " close and wait for the server's FIN before closing, so TIME_WAIT lands on the"
              + " server and the client's ports are free again at once."),
      new Rule("no keep-alive, resets acceptable, within budget", false, true, false,
          CloseStrategy.Kind.SERVER_CLOSE, null,
          "Each request needs its own connection and the rate fits the port budget: server close"
              + " is the gentlest way to keep the client free of TIME_WAIT, with a normal FIN"
              + " exchange."),
      new Rule("no keep-alive, resets acceptable, over budget", false, true, true, CloseStrategy.Kind.RESET, null,
          "Each request needs its own connection, the rate is over the port budget and RSTs are"
              + " acceptable: reset close (SO_LINGER 0) after the complete exchange leaves no"
              + " TIME_WAIT on either side and does not wait for the server's FIN."));

  private StrategyAdvisor() {}

  /**
   * Recommends a strategy for {@code workload} on a host with {@code settings}. Where the settings
   * are unsupported (not Linux), it assumes Linux's defaults and says so.
   *
   * @param settings the kernel settings
   * @param workload what the client does
   * @return the strategy and why
   */
  public static StrategyAdvice advise(KernelSettings settings, Workload workload) {
    Preconditions.checkNotNull(settings, "settings");
    Preconditions.checkNotNull(workload, "workload");
    List<String> reasons = new ArrayList<>();

    int usable = settings.usablePorts();
    TwReuse reuse = settings.twReuse();
    TcpTimestamps timestamps = settings.timestamps();
    if (!settings.supported() || usable <= 0) {
      usable = LINUX_DEFAULT_PORT_RANGE.size();
      reasons.add("The kernel settings are unknown (" + settings.unsupportedReason() + "), so"
          + " this assumes Linux's defaults: ports " + LINUX_DEFAULT_PORT_RANGE
          + ", tcp_tw_reuse=2, tcp_timestamps=1.");
    }
    if (reuse == TwReuse.UNKNOWN) {
      reuse = TwReuse.LOOPBACK_ONLY;
    }
    if (timestamps == TcpTimestamps.UNKNOWN) {
      timestamps = TcpTimestamps.ON;
    }

    double rate = workload.newConnectionsPerSecond();
    double plainLimit = usable / (double) KernelSettings.TIME_WAIT_SECONDS;
    List<String> reuseReasons = new ArrayList<>();
    boolean reuseHelps = TwReuseAdvice.helps(reuse, timestamps, workload, reuseReasons);
    double reuseDelaySeconds = TwReuseAdvice.delaySeconds(settings);
    double limit = reuseHelps ? usable / Math.max(reuseDelaySeconds, 0.001) : plainLimit;
    boolean over = rate > COMFORTABLE_SHARE * limit;
    reasons.add(String.format(Locale.ROOT,
        "A client that closes first can open at most %d usable ports / %d s = %.0f new"
            + " connections/s to one destination; this workload would open %s/s (%.0f%% of it).",
        usable, KernelSettings.TIME_WAIT_SECONDS, plainLimit, number(rate),
        100 * rate / plainLimit));

    Rule rule = RULES.stream().filter(r -> r.matches(workload, over)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no rule for " + workload));
    reasons.add(rule.reason());
    reasons.addAll(reuseReasons);

    CloseStrategy strategy;
    switch (rule.kind()) {
      case POOLED -> {
        PooledKeepAlive pooled = PooledKeepAlive.builder().retirement(rule.retirement()).build();
        strategy = pooled;
        double opens = rate / pooled.maxRequestsPerConnection();
        reasons.add(String.format(Locale.ROOT,
            "With at most %d requests per connection, %s requests/s open about %s new"
                + " connections/s, and none of them leaves TIME_WAIT on the client.",
            pooled.maxRequestsPerConnection(), number(rate), number(opens)));
      }
      case SERVER_CLOSE -> {
        strategy = CloseStrategy.serverClose();
        reasons.add("If the server does not close within the FIN wait ("
            + ServerClose.DEFAULT_FIN_WAIT.toSeconds() + " s), the client resets instead: the"
            + " server must honour Connection: close.");
        long serverTimeWait = Math.round(rate * KernelSettings.TIME_WAIT_SECONDS);
        if (settings.maxTwBuckets() > 0 && serverTimeWait > settings.maxTwBuckets()) {
          reasons.add("At " + number(rate) + " connections/s the server holds about "
              + serverTimeWait + " sockets in TIME_WAIT, more than tcp_max_tw_buckets ("
              + settings.maxTwBuckets() + " here; the server's own setting applies): past it the"
              + " server's kernel destroys closing sockets without TIME_WAIT"
              + " (TCPTimeWaitOverflow). Harmless for the client; keep-alive would avoid it.");
        }
      }
      case RESET -> {
        strategy = CloseStrategy.reset();
        reasons.add("The RST goes out only after the whole response was read; the server sees"
            + " the reset of a finished exchange, and TcpExt.TCPAbortOnData counts them here.");
      }
      default -> throw new IllegalStateException("no strategy for " + rule.kind());
    }
    if (settings.twRecycleExists()) {
      reasons.add("This kernel still has tcp_tw_recycle (before Linux 4.12): keep it 0, it drops"
          + " connections from clients behind NAT.");
    }
    return new StrategyAdvice(strategy, rule.name(), reasons, plainLimit,
        reuseHelps);
  }

  private static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return v >= 10 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
