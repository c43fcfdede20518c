package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import dev.timewait.diagnostics.Diagnosis;
import dev.timewait.diagnostics.HostPort;
import dev.timewait.diagnostics.KernelCounter;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.PortRange;
import dev.timewait.diagnostics.StrategyAdvice;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.Workload;
import java.util.List;
import java.util.Map;

/** Renders a {@link Diagnosis} as the doctor's JSON object, written with {@link Json}. Stateless. */
final class DoctorJson {
  private DoctorJson() {}

  /**
   * The report as ONE JSON object on one line, with the fields {@code os}, {@code destination},
   * {@code settings}, {@code counters}, {@code budget} (null without a destination), {@code
   * workload}, {@code advice} and {@code changes}. Each reading has {@code supported} and {@code
   * unsupportedReason}; a number that could not be read is null.
   */
  static String render(Diagnosis d) {
    KernelSettings settings = d.settings();
    PortBudget budget = d.budget().orElse(null);
    Workload workload = d.workload();
    return new Json()
        .field("os", System.getProperty("os.name") + " " + System.getProperty("os.version"))
        .field("destination", budget == null ? null : HostPort.of(budget.destination()))
        .field("settings", settingsJson(settings))
        .field("counters", countersJson(d.counters()))
        .field("budget", budget == null ? null : budgetJson(budget))
        .field("workload", new Json()
            .field("keepAliveAllowed", workload.keepAliveAllowed())
            .field("newConnectionsPerSecond", workload.newConnectionsPerSecond())
            .field("peerMayDisableTimestamps", workload.peerMayDisableTimestamps())
            .field("resetsAcceptable", workload.resetsAcceptable())
            .field("loopbackDestination", workload.loopbackDestination()))
        .field("advice", adviceJson(settings, d.advice()))
        .array("changes", d.changes().stream()
            .map(c -> new Json().field("topic", c.topic().key()).field("text", c.text())).toList())
        .toString();
  }

  private static Json settingsJson(KernelSettings settings) {
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

  private static Json countersJson(KernelCounters counters) {
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

  private static Json budgetJson(PortBudget budget) {
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
        .field("destination", HostPort.of(budget.destination()))
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

  private static Json adviceJson(KernelSettings settings, StrategyAdvice advice) {
    return new Json()
        .field("assumesLinuxDefaults", !settings.supported())
        .field("strategy", advice.kind().id())
        .field("retirement", advice.kind() == CloseStrategy.Kind.POOLED
            ? advice.strategy().retirement().name() : null)
        .field("code", advice.inCode())
        .field("rule", advice.rule())
        .array("reasons", advice.reasons())
        .field("plainCloseLimitPerSecond", advice.plainCloseLimitPerSecond())
        .field("twReuseHelps", advice.twReuseHelps());
  }

  private static Integer known(int v) {
    return v < 0 ? null : v;
  }
}
