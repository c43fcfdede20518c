package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A host's TIME_WAIT diagnosis: the kernel's settings and counters, the port budget towards one
 * destination if one was given, the {@link StrategyAdvisor}'s advice for a {@link Workload}, and
 * what to change and why ({@link #changes()}, most important first). Made from readings by {@link
 * #of}, which reads nothing itself, so any reading (a fixture, or an unsupported one off Linux)
 * gives a diagnosis; a report renders it.
 *
 * <pre>{@code
 * Diagnosis d = Diagnosis.of(KernelSettings.read(), KernelCounters.read(),
 *     PortBudget.of(new InetSocketAddress("10.0.0.7", 443)),
 *     Workload.builder().keepAliveAllowed(false).build());
 * d.changes().forEach(c -> System.out.println(c.topic().key() + ": " + c.text()));
 * }</pre>
 *
 * <p>Where the settings are unsupported (off Linux), the advice assumes Linux's defaults and the
 * only change says so. Immutable and thread-safe.
 */
public final class Diagnosis {
  private final KernelSettings settings;
  private final KernelCounters counters;
  private final PortBudget budget;
  private final Workload workload;
  private final StrategyAdvice advice;
  private final List<Change> changes;

  private Diagnosis(KernelSettings settings, KernelCounters counters, PortBudget budget,
      Workload workload) {
    this.settings = settings;
    this.counters = counters;
    this.budget = budget;
    this.workload = workload;
    this.advice = StrategyAdvisor.advise(settings, workload);
    this.changes = List.copyOf(whatToChange());
  }

  /**
   * The diagnosis for these readings, with the budget towards one destination. A budget towards
   * a loopback address makes the workload's {@link Workload#loopbackDestination()} true, as the
   * budget's own description counts it.
   *
   * @param settings the kernel's settings
   * @param counters the kernel's counters
   * @param budget the port budget towards the destination
   * @param workload what the advice is asked for
   * @return the diagnosis
   */
  public static Diagnosis of(KernelSettings settings, KernelCounters counters, PortBudget budget,
      Workload workload) {
    Preconditions.checkNotNull(budget, "budget");
    return create(settings, counters, budget, workload);
  }

  /**
   * The diagnosis for these readings, with no destination.
   *
   * @param settings the kernel's settings
   * @param counters the kernel's counters
   * @param workload what the advice is asked for
   * @return the diagnosis
   */
  public static Diagnosis of(KernelSettings settings, KernelCounters counters, Workload workload) {
    return create(settings, counters, null, workload);
  }

  private static Diagnosis create(KernelSettings settings, KernelCounters counters,
      PortBudget budget, Workload workload) {
    Preconditions.checkNotNull(settings, "settings");
    Preconditions.checkNotNull(counters, "counters");
    Preconditions.checkNotNull(workload, "workload");
    java.net.InetAddress address = budget == null ? null : budget.destination().getAddress();
    if (address != null && address.isLoopbackAddress() && !workload.loopbackDestination()) {
      // The budget names the destination: loopback, where the default tcp_tw_reuse=2 applies
      // (its own description says so). A workload built without the flag told the caller connect()
      // would fail there, beside that description.
      workload = new Workload(workload.keepAliveAllowed(), workload.newConnectionsPerSecond(),
          workload.peerMayDisableTimestamps(), workload.resetsAcceptable(), true);
    }
    return new Diagnosis(settings, counters, budget, workload);
  }

  /** {@return the kernel's settings} */
  public KernelSettings settings() {
    return settings;
  }

  /** {@return the kernel's counters} */
  public KernelCounters counters() {
    return counters;
  }

  /** {@return the port budget towards the destination, if one was given} */
  public Optional<PortBudget> budget() {
    return Optional.ofNullable(budget);
  }

  /** {@return what the advice was asked for} */
  public Workload workload() {
    return workload;
  }

  /** {@return the advisor's recommendation for the workload on these settings} */
  public StrategyAdvice advice() {
    return advice;
  }

  /** {@return what to change and why, most important first} */
  public List<Change> changes() {
    return changes;
  }

  private List<Change> whatToChange() {
    List<Change> out = new ArrayList<>();
    String use = "use " + advice.inWords();
    if (!settings.supported()) {
      out.add(new Change(Change.Topic.KERNEL, settings.unsupportedReason() + ": no kernel settings"
          + " to read or change here. The advice above assumes Linux's defaults; on Linux, " + use
          + "."));
      return out;
    }
    int usable = settings.usablePorts();
    double limit = settings.maxNewConnectionsPerSecond();
    String to = budget != null ? "to " + HostPort.of(budget.destination())
        : "to one destination ip:port";
    String budgetText = String.format(Locale.ROOT,
        "Your port range has %d usable ports: a client that closes first can open at most %d / %d s"
            + " = %s new connections/s %s.", usable, usable, KernelSettings.TIME_WAIT_SECONDS,
        rate(limit), to);
    double wanted = workload.newConnectionsPerSecond();
    double delaySeconds = TwReuseAdvice.delaySeconds(settings);
    // Within what tcp_tw_reuse sustains towards this destination: connect() takes over TIME_WAIT
    // ports past the reuse delay instead of failing (the tcp_tw_reuse change below says so).
    boolean reuseCarries = advice.twReuseHelps() && wanted <= usable / Math.max(delaySeconds, 0.001);
    if (wanted > limit && reuseCarries) {
      // Not a failure to predict (before, this said connect() would fail, beside a change saying
      // nothing needs changing).
      budgetText += String.format(Locale.ROOT, " Your workload wants %s/s, more than that, but"
          + " tcp_tw_reuse covers this destination: connect() takes over TIME_WAIT ports older"
          + " than %s s instead of failing, up to about %s/s. The client still holds each"
          + " TIME_WAIT; to keep it off, %s.", rate(wanted), rate(delaySeconds),
          rate(usable / Math.max(delaySeconds, 0.001)), use);
    } else if (wanted > limit) {
      budgetText += String.format(Locale.ROOT, " Your workload wants %s/s: without a strategy"
          + " connect() fails with \"Cannot assign requested address\" after about %.0f s. Widening"
          + " net.ipv4.ip_local_port_range only raises the ceiling (at most ~64,500 ports, ~1,075/s)"
          + " and may collide with listening ports: %s, which needs no sysctl.",
          rate(wanted), usable / wanted, use);
    } else {
      budgetText += String.format(Locale.ROOT, " Your workload wants %s/s (%.0f%% of it).",
          rate(wanted), 100 * wanted / limit);
    }
    out.add(new Change(Change.Topic.PORT_BUDGET, budgetText));

    if (budget != null && budget.supported()) {
      String where = HostPort.of(budget.destination());
      if (budget.timeWait() > 0) {
        out.add(new Change(Change.Topic.TIME_WAIT, String.format(Locale.ROOT,
            "%d sockets towards %s are in TIME_WAIT now (%.1f%% of the usable ports): the client"
                + " closed first, and each holds its port for %d s. %s to keep them off the"
                + " client.", budget.timeWait(), where, 100 * budget.timeWaitShare(),
            KernelSettings.TIME_WAIT_SECONDS, capitalize(use))));
      }
      if (budget.headroom() < usable / 10 && !reuseCarries) {
        out.add(new Change(Change.Topic.PORT_BUDGET, String.format(Locale.ROOT,
            "Only %d of %d ports are left towards %s: new connections to it will soon fail with"
                + " \"Cannot assign requested address\".", budget.headroom(), usable, where)));
      }
    }

    String where = budget != null ? HostPort.of(budget.destination())
        : "a destination that is not loopback";
    out.add(new Change(Change.Topic.TCP_TW_REUSE,
        TwReuseAdvice.change(settings, where, workload, advice, use)));
    if (!settings.timestamps().enabled() && settings.timestamps() != TcpTimestamps.UNKNOWN) {
      out.add(new Change(Change.Topic.TCP_TIMESTAMPS, TwReuseAdvice.timestampsOff()));
    }
    out.add(new Change(Change.Topic.TCP_FIN_TIMEOUT, "Leave net.ipv4.tcp_fin_timeout ("
        + (settings.finTimeoutSeconds() < 0 ? "unknown" : settings.finTimeoutSeconds() + " s")
        + ") alone for TIME_WAIT: it bounds orphaned FIN_WAIT_2, NOT TIME_WAIT, which is fixed at "
        + KernelSettings.TIME_WAIT_SECONDS + " s. Lowering it frees no TIME_WAIT port (only the"
        + " ports of connections whose peer never sent its FIN)."));
    out.add(new Change(Change.Topic.TCP_TW_RECYCLE, settings.twRecycleExists()
        ? "This kernel still has net.ipv4.tcp_tw_recycle (before Linux 4.12): keep it 0, it drops"
            + " connections from clients behind NAT."
        : "Advice to set net.ipv4.tcp_tw_recycle is obsolete: it was removed in Linux 4.12."));
    if (counters.supported() && counters.timeWaitOverflow() > 0) {
      out.add(new Change(Change.Topic.TCP_MAX_TW_BUCKETS, "TcpExt.TCPTimeWaitOverflow = "
          + counters.timeWaitOverflow() + ": the kernel destroyed closing sockets without TIME_WAIT"
          + " because tcp_max_tw_buckets (" + settings.maxTwBuckets() + ") was full. Raising it"
          + " only hides the churn; " + use + "."));
    } else if (counters.supported() && settings.maxTwBuckets() > 0
        && counters.timeWait() >= 0.8 * settings.maxTwBuckets()) {
      out.add(new Change(Change.Topic.TCP_MAX_TW_BUCKETS, counters.timeWait() + " sockets are in"
          + " TIME_WAIT, near tcp_max_tw_buckets (" + settings.maxTwBuckets() + "): past it the"
          + " kernel destroys closing sockets without TIME_WAIT."));
    }
    String why = StrategyAdvisor.RULES.stream().filter(r -> r.name().equals(advice.rule()))
        .map(StrategyAdvisor.Rule::reason).findFirst().orElse(advice.rule());
    out.add(new Change(Change.Topic.STRATEGY,
        capitalize(use) + ", in code " + advice.inCode() + ". " + why));
    return out;
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /** A rate in words: whole numbers without decimals, "unknown" when negative. */
  static String rate(double perSecond) {
    if (perSecond < 0) {
      return "unknown";
    }
    return perSecond >= 10 || perSecond == Math.rint(perSecond)
        ? String.format(Locale.ROOT, "%.0f", perSecond)
        : String.format(Locale.ROOT, "%.1f", perSecond);
  }
}
