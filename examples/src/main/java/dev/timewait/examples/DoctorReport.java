package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.KernelCounter;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSetting;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.PortRange;
import dev.timewait.diagnostics.StrategyAdvice;
import dev.timewait.diagnostics.StrategyAdvisor;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTimestamps;
import dev.timewait.diagnostics.TwReuse;
import dev.timewait.diagnostics.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code timewait-load doctor} reports: this host's kernel settings and counters, the port
 * budget towards one destination, the {@link StrategyAdvisor}'s advice for a {@link Workload},
 * and what to change and why. Made from readings by {@link #of}, which reads nothing itself, so
 * any reading (a fixture, or an unsupported one off Linux) gives a report.
 *
 * <pre>{@code
 * InetSocketAddress lb = new InetSocketAddress("10.0.0.7", 443);
 * KernelSettings settings = KernelSettings.read();
 * DoctorReport report = DoctorReport.of(settings, KernelCounters.read(), PortBudget.of(lb),
 *     Workload.builder().keepAliveAllowed(false).build());
 * System.out.print(report.toText());
 * System.out.println(report.toJson());
 * }</pre>
 *
 * <p>Where a reading is unsupported (off Linux), its section says so with the reading's reason,
 * which starts with "unsupported on this OS"; the advice then assumes Linux's defaults and says
 * so too. Immutable and thread-safe.
 *
 * @param settings the kernel's settings
 * @param counters the kernel's counters
 * @param budget the port budget towards the destination; null when no destination was given
 * @param workload what the advice was asked for
 * @param advice the advisor's recommendation for {@code workload} on {@code settings}
 * @param changes what to change and why, most important first
 */
public record DoctorReport(
    KernelSettings settings,
    KernelCounters counters,
    PortBudget budget,
    Workload workload,
    StrategyAdvice advice,
    List<Change> changes) {

  /** The width the text report wraps its explanations at. */
  public static final int TEXT_WIDTH = 100;

  /** A report section's title in the text form; the JSON object has one field per section. */
  public static final List<String> SECTIONS = List.of(
      "Kernel settings", "Kernel counters", "Port budget", "Advice", "What to change and why");

  /**
   * One thing to change, or to leave alone, and why. Immutable and thread-safe.
   *
   * @param topic what it is about: a setting's short name ({@code tcp_tw_reuse}), {@code
   *     port_budget}, {@code time_wait} or {@code strategy}
   * @param text the advice, in plain words
   */
  public record Change(String topic, String text) {
    /** Validates: no component is null. */
    public Change {
      Objects.requireNonNull(topic, "topic cannot be null");
      Objects.requireNonNull(text, "text cannot be null");
    }
  }

  /** Validates: every component but {@code budget} is non-null. */
  public DoctorReport {
    Objects.requireNonNull(settings, "settings cannot be null");
    Objects.requireNonNull(counters, "counters cannot be null");
    Objects.requireNonNull(workload, "workload cannot be null");
    Objects.requireNonNull(advice, "advice cannot be null");
    Objects.requireNonNull(changes, "changes cannot be null");
    changes = List.copyOf(changes);
  }

  /**
   * The report for these readings: asks {@link StrategyAdvisor#advise} for {@code workload} and
   * derives what to change. Reads nothing.
   *
   * @param budget the budget towards the destination, or null for none
   */
  public static DoctorReport of(
      KernelSettings settings, KernelCounters counters, PortBudget budget, Workload workload) {
    Objects.requireNonNull(settings, "settings cannot be null");
    Objects.requireNonNull(counters, "counters cannot be null");
    Objects.requireNonNull(workload, "workload cannot be null");
    StrategyAdvice advice = StrategyAdvisor.advise(settings, workload);
    return new DoctorReport(settings, counters, budget, workload, advice,
        changes(settings, counters, budget, workload, advice));
  }

  // ---- what to change

  private static List<Change> changes(KernelSettings settings, KernelCounters counters,
      PortBudget budget, Workload workload, StrategyAdvice advice) {
    List<Change> changes = new ArrayList<>();
    String use = "use " + strategyName(advice);
    if (!settings.supported()) {
      changes.add(new Change("kernel", settings.unsupportedReason() + ": no kernel settings to read or"
          + " change here. The advice above assumes Linux's defaults; on Linux, " + use + "."));
      return changes;
    }
    int usable = settings.usablePorts();
    double limit = settings.maxNewConnectionsPerSecond();
    String to = budget != null ? "to " + destination(budget) : "to one destination ip:port";
    String budgetText = String.format(Locale.ROOT,
        "Your port range has %d usable ports: a client that closes first can open at most %d / %d s"
            + " = %s new connections/s %s.", usable, usable, KernelSettings.TIME_WAIT_SECONDS,
        rate(limit), to);
    double wanted = workload.newConnectionsPerSecond();
    if (wanted > limit) {
      budgetText += String.format(Locale.ROOT, " Your workload wants %s/s: without a strategy"
          + " connect() fails with \"Cannot assign requested address\" after about %.0f s. Widening"
          + " net.ipv4.ip_local_port_range only raises the ceiling (at most ~64,500 ports, ~1,075/s)"
          + " and may collide with listening ports: %s, which needs no sysctl.",
          rate(wanted), usable / wanted, use);
    } else {
      budgetText += String.format(Locale.ROOT, " Your workload wants %s/s (%.0f%% of it).",
          rate(wanted), 100 * wanted / limit);
    }
    changes.add(new Change("port_budget", budgetText));

    if (budget != null && budget.supported()) {
      if (budget.timeWait() > 0) {
        changes.add(new Change("time_wait", String.format(Locale.ROOT,
            "%d sockets towards %s are in TIME_WAIT now (%.1f%% of the usable ports): the client closed"
                + " first, and each holds its port for %d s. %s to keep them off the client.",
            budget.timeWait(), destination(budget), 100 * budget.timeWaitShare(),
            KernelSettings.TIME_WAIT_SECONDS, capitalize(use))));
      }
      if (budget.headroom() < usable / 10) {
        changes.add(new Change("port_budget", String.format(Locale.ROOT,
            "Only %d of %d ports are left towards %s: new connections to it will soon fail with"
                + " \"Cannot assign requested address\".", budget.headroom(), usable,
            destination(budget))));
      }
    }

    changes.add(new Change("tcp_tw_reuse", twReuse(settings, budget, workload, advice, use)));
    if (!settings.timestamps().enabled() && settings.timestamps() != TcpTimestamps.UNKNOWN) {
      changes.add(new Change("tcp_timestamps", "tcp_timestamps=0 on this host, so tcp_tw_reuse can"
          + " never apply here. Turn it on (1) only if you rely on tcp_tw_reuse; timewait's"
          + " strategies do not need it."));
    }
    changes.add(new Change("tcp_fin_timeout", "Leave net.ipv4.tcp_fin_timeout ("
        + (settings.finTimeoutSeconds() < 0 ? "unknown" : settings.finTimeoutSeconds() + " s")
        + ") alone for TIME_WAIT: it bounds orphaned FIN_WAIT_2, NOT TIME_WAIT, which is fixed at "
        + KernelSettings.TIME_WAIT_SECONDS + " s. Lowering it does not free a single port."));
    changes.add(new Change("tcp_tw_recycle", settings.twRecycleExists()
        ? "This kernel still has net.ipv4.tcp_tw_recycle (before Linux 4.12): keep it 0, it drops"
            + " connections from clients behind NAT."
        : "Advice to set net.ipv4.tcp_tw_recycle is obsolete: it was removed in Linux 4.12."));
    if (counters.supported() && counters.timeWaitOverflow() > 0) {
      changes.add(new Change("tcp_max_tw_buckets", "TcpExt.TCPTimeWaitOverflow = "
          + counters.timeWaitOverflow() + ": the kernel destroyed closing sockets without TIME_WAIT"
          + " because tcp_max_tw_buckets (" + settings.maxTwBuckets() + ") was full. Raising it"
          + " only hides the churn; " + use + "."));
    } else if (counters.supported() && settings.maxTwBuckets() > 0
        && counters.timeWait() >= 0.8 * settings.maxTwBuckets()) {
      changes.add(new Change("tcp_max_tw_buckets", counters.timeWait() + " sockets are in TIME_WAIT,"
          + " near tcp_max_tw_buckets (" + settings.maxTwBuckets() + "): past it the kernel"
          + " destroys closing sockets without TIME_WAIT."));
    }
    String why = StrategyAdvisor.RULES.stream().filter(r -> r.name().equals(advice.rule()))
        .map(StrategyAdvisor.Rule::reason).findFirst().orElse(advice.rule());
    changes.add(new Change("strategy", capitalize(use) + ", in code " + code(advice.strategy()) + ". " + why));
    return changes;
  }

  private static String twReuse(KernelSettings settings, PortBudget budget, Workload workload,
      StrategyAdvice advice, String use) {
    TwReuse reuse = settings.twReuse();
    String where = budget != null ? destination(budget) : "a destination that is not loopback";
    boolean loopback = workload.loopbackDestination();
    boolean peerMayLackTimestamps = workload.peerMayDisableTimestamps();
    switch (reuse) {
      case OFF:
        return "tcp_tw_reuse=0: TIME_WAIT ports are never reused. Setting it to 1 helps only when both"
            + " ends use TCP timestamps" + (peerMayLackTimestamps
                ? ", which a load balancer with timestamps off does not: " + use + " instead."
                : "; " + use + ", which needs no sysctl.");
      case LOOPBACK_ONLY:
        if (!loopback) {
          return "tcp_tw_reuse=2 applies only to loopback, not to " + where + "."
              + (peerMayLackTimestamps
                  ? " Against a load balancer with timestamps off even tcp_tw_reuse=1 cannot help: "
                      + use + "."
                  : " tcp_tw_reuse=1 would reuse TIME_WAIT ports older than 1 s if the peer uses"
                      + " timestamps, but the client would still churn through them: " + use + ".");
        }
        return "tcp_tw_reuse=2 covers this loopback destination"
            + (advice.twReuseHelps()
                ? ": the kernel may take over TIME_WAIT ports older than 1 s. Nothing to change;"
                    + " " + use + " to keep TIME_WAIT off the client anyway."
                : ", but reuse also needs TCP timestamps on both ends, and " + (settings.timestamps().enabled()
                    ? "the peer may have them off" : "tcp_timestamps=0 here") + ": " + use + ".");
      case ALL:
        if (!advice.twReuseHelps()) {
          return "tcp_tw_reuse=1 is on, but it needs TCP timestamps on both ends, and "
              + (settings.timestamps().enabled() ? "the peer may have them off (load balancers do)"
                  : "this host has them off") + ": it cannot help; " + use + ".";
        }
        return "tcp_tw_reuse=1 may take over TIME_WAIT ports older than 1 s towards " + where
            + " (timestamps on both ends). Nothing to change; " + use + " to keep TIME_WAIT off the"
            + " client anyway.";
      default:
        return "tcp_tw_reuse could not be read: plan as if each TIME_WAIT holds its port for "
            + KernelSettings.TIME_WAIT_SECONDS + " s; " + use + ".";
    }
  }

  private static String strategyName(StrategyAdvice advice) {
    if (advice.strategy() instanceof PooledKeepAlive p) {
      return "pooled keep-alive retired by " + (p.retirement().name().equals("RESET") ? "reset" : "server close");
    }
    return advice.kind().equals("reset") ? "reset close" : "server close";
  }

  /** The Java expression that makes the advised strategy. */
  static String code(CloseStrategy strategy) {
    if (strategy instanceof PooledKeepAlive p) {
      return "PooledKeepAlive.builder().retirement(Retirement." + p.retirement().name() + ").build()";
    }
    return strategy.name().equals("reset") ? "CloseStrategy.reset()" : "CloseStrategy.serverClose()";
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  private static String destination(PortBudget budget) {
    return hostPort(budget.destination().getAddress() != null
        ? budget.destination().getAddress().getHostAddress()
        : budget.destination().getHostString(), budget.destination().getPort());
  }

  /** {@code host:port}, with an IPv6 literal in brackets. */
  static String hostPort(String host, int port) {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  private static String rate(double perSecond) {
    if (perSecond < 0) {
      return "unknown";
    }
    return perSecond >= 10 || perSecond == Math.rint(perSecond)
        ? String.format(Locale.ROOT, "%.0f", perSecond)
        : String.format(Locale.ROOT, "%.1f", perSecond);
  }

  // ---- text

  /** The report as text: one titled section each, in {@link #SECTIONS}' order. */
  public String toText() {
    StringBuilder sb = new StringBuilder();
    sb.append("timewait doctor: ").append(System.getProperty("os.name")).append(' ')
        .append(System.getProperty("os.version")).append(", destination ")
        .append(budget == null ? "none" : destination(budget)).append('\n');

    title(sb, SECTIONS.get(0) + " (/proc/sys/net/ipv4)");
    if (!settings.supported()) {
      line(sb, "", settings.unsupportedReason());
    } else {
      for (KernelSetting s : settings.settings()) {
        line(sb, "", s.name() + (s.present() ? " = " + (s.value().isEmpty() ? "(empty)" : s.value())
            : " (absent)"));
        line(sb, "    ", s.explanation());
      }
    }

    title(sb, SECTIONS.get(1) + " (/proc/net, since boot; gauges now)");
    if (!counters.supported()) {
      line(sb, "", counters.unsupportedReason());
    } else {
      for (KernelCounter c : counters.counters()) {
        line(sb, String.format(Locale.ROOT, "%-27s %11s  ", c.name(),
            c.value() < 0 ? "unknown" : Long.toString(c.value())), c.explanation());
      }
    }

    if (budget == null) {
      title(sb, SECTIONS.get(2));
      line(sb, "", "no destination given: run `doctor host:port` for the budget towards it.");
    } else {
      title(sb, SECTIONS.get(2) + " towards " + destination(budget));
      if (!budget.supported()) {
        line(sb, "", budget.unsupportedReason());
      } else {
        budgetText(sb);
      }
    }

    title(sb, SECTIONS.get(3));
    if (!settings.supported()) {
      line(sb, "", settings.unsupportedReason() + ": the advice assumes Linux's defaults.");
    }
    line(sb, "", "workload: " + describe(workload));
    line(sb, "", "recommended: " + strategyName(advice) + " (rule: " + advice.rule() + ")");
    line(sb, "", "in code:     " + code(advice.strategy()));
    for (String r : advice.reasons()) {
      line(sb, "  - ", r);
    }

    title(sb, SECTIONS.get(4));
    for (Change c : changes) {
      line(sb, "  - ", c.text());
    }
    return sb.toString();
  }

  private void budgetText(StringBuilder sb) {
    PortRange range = budget.localPortRange();
    line(sb, "", String.format(Locale.ROOT, "ports in range:   %d (%s)", range.size(), range));
    line(sb, "", String.format(Locale.ROOT, "reserved:         %d", budget.reservedInRange()));
    line(sb, "", String.format(Locale.ROOT, "usable:           %d", budget.usablePorts()));
    StringBuilder states = new StringBuilder();
    for (Map.Entry<TcpState, Integer> e : budget.sockets().entrySet()) {
      if (e.getValue() > 0) {
        states.append(states.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
      }
    }
    line(sb, "", "sockets by state: " + (states.length() == 0 ? "none" : states)
        + " (" + budget.holdingPorts() + " holding a port)");
    line(sb, "", String.format(Locale.ROOT, "TIME_WAIT now:    %d (%.1f%% of the usable ports)",
        budget.timeWait(), 100 * budget.timeWaitShare()));
    line(sb, "", String.format(Locale.ROOT, "sustainable:      %s new connections/s when the client"
        + " closes first (%d ports / %d s)", rate(budget.sustainableNewConnectionsPerSecond()),
        budget.usablePorts(), KernelSettings.TIME_WAIT_SECONDS));
    line(sb, "", String.format(Locale.ROOT, "headroom:         %d ports for new connections", budget.headroom()));
    line(sb, "", "tcp_tw_reuse:     " + (budget.twReuseMayApply()
        ? "may take over TIME_WAIT ports older than 1 s, if the peer uses TCP timestamps too"
        : "does not apply to this destination; TIME_WAIT ports stay held for 60 s"));
  }

  /** The workload in words, e.g. for the advice section. */
  static String describe(Workload w) {
    return (w.keepAliveAllowed() ? "keep-alive allowed" : "no keep-alive (a connection per request)")
        + ", " + rate(w.newConnectionsPerSecond()) + " new connections/s, "
        + (w.peerMayDisableTimestamps() ? "the peer may have TCP timestamps off"
            : "the peer uses TCP timestamps")
        + ", " + (w.resetsAcceptable() ? "resets acceptable" : "no resets")
        + ", " + (w.loopbackDestination() ? "loopback destination" : "destination not loopback");
  }

  private static void title(StringBuilder sb, String title) {
    sb.append('\n').append("== ").append(title).append(" ==").append('\n');
  }

  /** Appends {@code text} wrapped at {@link #TEXT_WIDTH}: the first line after {@code lead}, the rest indented as far. */
  private static void line(StringBuilder sb, String lead, String text) {
    String indent = " ".repeat(lead.length());
    StringBuilder current = new StringBuilder(lead);
    boolean empty = true;
    for (String word : text.split(" ")) {
      if (!empty && current.length() + 1 + word.length() > TEXT_WIDTH) {
        sb.append(current).append('\n');
        current = new StringBuilder(indent);
        empty = true;
      }
      if (!empty) {
        current.append(' ');
      }
      current.append(word);
      empty = false;
    }
    sb.append(current).append('\n');
  }

  // ---- JSON

  /**
   * The report as ONE JSON object on one line, with the fields {@code os}, {@code destination},
   * {@code settings}, {@code counters}, {@code budget} (null without a destination), {@code
   * workload}, {@code advice} and {@code changes}. Each reading has {@code supported} and {@code
   * unsupportedReason}; a number that could not be read is null.
   */
  public String toJson() {
    return new Json()
        .field("os", System.getProperty("os.name") + " " + System.getProperty("os.version"))
        .field("destination", budget == null ? null : destination(budget))
        .field("settings", settingsJson())
        .field("counters", countersJson())
        .field("budget", budget == null ? null : budgetJson())
        .field("workload", new Json()
            .field("keepAliveAllowed", workload.keepAliveAllowed())
            .field("newConnectionsPerSecond", workload.newConnectionsPerSecond())
            .field("peerMayDisableTimestamps", workload.peerMayDisableTimestamps())
            .field("resetsAcceptable", workload.resetsAcceptable())
            .field("loopbackDestination", workload.loopbackDestination()))
        .field("advice", adviceJson())
        .array("changes", changes.stream()
            .map(c -> new Json().field("topic", c.topic()).field("text", c.text())).toList())
        .toString();
  }

  private Json settingsJson() {
    List<Json> rows = settings.settings().stream()
        .map(s -> new Json().field("name", s.name()).field("present", s.present())
            .field("value", s.present() ? s.value() : null).field("explanation", s.explanation()))
        .toList();
    return new Json()
        .field("supported", settings.supported())
        .field("unsupportedReason", settings.unsupportedReason())
        .field("localPortRange", settings.localPortRange() == null ? null : settings.localPortRange().toString())
        .array("reservedPorts", settings.reservedPorts().stream().map(PortRange::toString).toList())
        .field("usablePorts", known(settings.usablePorts()))
        .field("twReuse", known(settings.twReuse().code()))
        .field("timestamps", known(settings.timestamps().code()))
        .field("finTimeoutSeconds", known(settings.finTimeoutSeconds()))
        .field("maxTwBuckets", known(settings.maxTwBuckets()))
        .field("twRecycleExists", settings.twRecycleExists())
        .field("twReuseDelayMillis", known(settings.twReuseDelayMillis()))
        .field("timeWaitSeconds", KernelSettings.TIME_WAIT_SECONDS)
        .field("maxNewConnectionsPerSecond",
            settings.supported() ? settings.maxNewConnectionsPerSecond() : null)
        .array("rows", rows);
  }

  private Json countersJson() {
    Json values = new Json();
    for (KernelCounter c : counters.counters()) {
      values.field(c.name(), c.value() < 0 ? null : c.value());
    }
    List<Json> rows = counters.supported()
        ? counters.counters().stream()
            .map(c -> new Json().field("name", c.name()).field("value", c.value() < 0 ? null : c.value())
                .field("explanation", c.explanation()))
            .toList()
        : List.of();
    return new Json()
        .field("supported", counters.supported())
        .field("unsupportedReason", counters.unsupportedReason())
        .field("values", values)
        .array("rows", rows);
  }

  private Json budgetJson() {
    Json sockets = new Json();
    for (Map.Entry<TcpState, Integer> e : budget.sockets().entrySet()) {
      if (e.getValue() > 0) {
        sockets.field(e.getKey().name(), e.getValue());
      }
    }
    boolean ok = budget.supported();
    return new Json()
        .field("supported", ok)
        .field("unsupportedReason", budget.unsupportedReason())
        .field("destination", destination(budget))
        .field("localPortRange", ok ? budget.localPortRange().toString() : null)
        .field("portsInRange", ok ? budget.localPortRange().size() : null)
        .field("reserved", ok ? budget.reservedInRange() : null)
        .field("usable", ok ? budget.usablePorts() : null)
        .field("sockets", sockets)
        .field("holdingPorts", ok ? budget.holdingPorts() : null)
        .field("timeWait", ok ? budget.timeWait() : null)
        .field("headroom", ok ? budget.headroom() : null)
        .field("sustainableNewConnectionsPerSecond", ok ? budget.sustainableNewConnectionsPerSecond() : null)
        .field("twReuseMayApply", budget.twReuseMayApply());
  }

  private Json adviceJson() {
    return new Json()
        .field("assumesLinuxDefaults", !settings.supported())
        .field("strategy", advice.kind())
        .field("retirement", advice.strategy() instanceof PooledKeepAlive p ? p.retirement().name() : null)
        .field("code", code(advice.strategy()))
        .field("rule", advice.rule())
        .array("reasons", advice.reasons())
        .field("plainCloseLimitPerSecond", advice.plainCloseLimitPerSecond())
        .field("twReuseHelps", advice.twReuseHelps());
  }

  private static Integer known(int v) {
    return v < 0 ? null : v;
  }
}
