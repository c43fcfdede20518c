package dev.timewait.examples;

import dev.timewait.diagnostics.Diagnosis;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.Workload;
import java.util.List;
import java.util.Objects;

/**
 * What {@code timewait-load doctor} reports: a {@link Diagnosis} (the library's: settings,
 * counters, the budget towards one destination, the advice for a {@link Workload}, what to
 * change and why) rendered as text ({@link DoctorText}) or JSON ({@link DoctorJson}).
 *
 * <pre>{@code
 * InetSocketAddress lb = new InetSocketAddress("10.0.0.7", 443);
 * DoctorReport report = DoctorReport.of(KernelSettings.read(), KernelCounters.read(),
 *     PortBudget.of(lb), Workload.builder().keepAliveAllowed(false).build());
 * System.out.print(report.toText());
 * System.out.println(report.toJson());
 * }</pre>
 *
 * <p>Where a reading is unsupported (off Linux), its section says so with the reading's reason,
 * which starts with "unsupported on this OS"; the advice then assumes Linux's defaults and says
 * so too. Immutable and thread-safe.
 */
public final class DoctorReport {

  /** The width the text report wraps its explanations at. */
  public static final int TEXT_WIDTH = 100;

  /** A report section's title in the text form; the JSON object has one field per section. */
  public static final List<String> SECTIONS = List.of(
      "Kernel settings", "Kernel counters", "Port budget", "Advice", "What to change and why");

  private final Diagnosis diagnosis;

  private DoctorReport(Diagnosis diagnosis) {
    this.diagnosis = diagnosis;
  }

  /**
   * The report for these readings. Reads nothing.
   *
   * @param budget the budget towards the destination, or null for none
   */
  public static DoctorReport of(
      KernelSettings settings, KernelCounters counters, PortBudget budget, Workload workload) {
    Objects.requireNonNull(settings, "settings cannot be null");
    Objects.requireNonNull(counters, "counters cannot be null");
    Objects.requireNonNull(workload, "workload cannot be null");
    return new DoctorReport(budget == null ? Diagnosis.of(settings, counters, workload)
        : Diagnosis.of(settings, counters, budget, workload));
  }

  /** {@return the diagnosis this report renders} */
  public Diagnosis diagnosis() {
    return diagnosis;
  }

  /** {@return the budget towards the destination, or null when none was given} */
  public PortBudget budget() {
    return diagnosis.budget().orElse(null);
  }

  /** {@return the report as text: one titled section each, in {@link #SECTIONS}' order} */
  public String toText() {
    return DoctorText.render(diagnosis);
  }

  /**
   * The report as ONE JSON object on one line, with the fields {@code os}, {@code destination},
   * {@code settings}, {@code counters}, {@code budget} (null without a destination), {@code
   * workload}, {@code advice} and {@code changes}. Each reading has {@code supported} and {@code
   * unsupportedReason}; a number that could not be read is null.
   *
   * @return the report as JSON
   */
  public String toJson() {
    return DoctorJson.render(diagnosis);
  }
}
