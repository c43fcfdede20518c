package dev.timewait.examples;

import dev.timewait.diagnostics.Change;
import dev.timewait.diagnostics.Diagnosis;
import dev.timewait.diagnostics.HostPort;
import dev.timewait.diagnostics.KernelCounter;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSetting;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.PortRange;
import dev.timewait.diagnostics.StrategyAdvice;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.Workload;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link Diagnosis} as the doctor's text report, wrapped for a terminal. Stateless. */
final class DoctorText {
  private DoctorText() {}

  /** The report as text: one titled section each, in {@link DoctorReport#SECTIONS}' order. */
  static String render(Diagnosis d) {
    KernelSettings settings = d.settings();
    KernelCounters counters = d.counters();
    PortBudget budget = d.budget().orElse(null);
    StrategyAdvice advice = d.advice();
    StringBuilder sb = new StringBuilder();
    sb.append("timewait doctor: ").append(System.getProperty("os.name")).append(' ')
        .append(System.getProperty("os.version")).append(", destination ")
        .append(budget == null ? "none" : HostPort.of(budget.destination())).append('\n');

    title(sb, DoctorReport.SECTIONS.get(0) + " (/proc/sys/net/ipv4)");
    if (!settings.supported()) {
      line(sb, "", settings.unsupportedReason());
    } else {
      for (KernelSetting s : settings.settings()) {
        line(sb, "", s.name() + (s.present() ? " = " + (s.value().isEmpty() ? "(empty)" : s.value())
            : " (absent)"));
        line(sb, "    ", s.explanation());
      }
    }

    title(sb, DoctorReport.SECTIONS.get(1) + " (/proc/net, since boot; gauges now)");
    if (!counters.supported()) {
      line(sb, "", counters.unsupportedReason());
    } else {
      for (KernelCounter c : counters.counters()) {
        line(sb, String.format(Locale.ROOT, "%-27s %11s  ", c.name(),
            c.value() < 0 ? "unknown" : Long.toString(c.value())), c.explanation());
      }
    }

    if (budget == null) {
      title(sb, DoctorReport.SECTIONS.get(2));
      line(sb, "", "no destination given: run `doctor host:port` for the budget towards it.");
    } else {
      title(sb, DoctorReport.SECTIONS.get(2) + " towards " + HostPort.of(budget.destination()));
      if (!budget.supported()) {
        line(sb, "", budget.unsupportedReason());
      } else {
        budgetText(sb, budget);
      }
    }

    title(sb, DoctorReport.SECTIONS.get(3));
    if (!settings.supported()) {
      line(sb, "", settings.unsupportedReason() + ": the advice assumes Linux's defaults.");
    }
    line(sb, "", "workload: " + describe(d.workload()));
    line(sb, "", "recommended: " + advice.inWords() + " (rule: " + advice.rule() + ")");
    line(sb, "", "in code:     " + advice.inCode());
    for (String r : advice.reasons()) {
      line(sb, "  - ", r);
    }

    title(sb, DoctorReport.SECTIONS.get(4));
    for (Change c : d.changes()) {
      line(sb, "  - ", c.text());
    }
    return sb.toString();
  }

  private static void budgetText(StringBuilder sb, PortBudget budget) {
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
    line(sb, "", "tcp_tw_reuse:     " + budget.twReuseExplanation());
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

  /** Appends {@code text} wrapped at {@link DoctorReport#TEXT_WIDTH}: the first line after {@code lead}, the rest indented as far. */
  private static void line(StringBuilder sb, String lead, String text) {
    String indent = " ".repeat(lead.length());
    StringBuilder current = new StringBuilder(lead);
    boolean empty = true;
    for (String word : text.split(" ")) {
      if (!empty && current.length() + 1 + word.length() > DoctorReport.TEXT_WIDTH) {
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
