/**
 * Linux TCP diagnostics: what the kernel says about client TIME_WAIT and the ports left. The
 * readers of {@code /proc} ({@link dev.timewait.diagnostics.KernelSettings},
 * {@link dev.timewait.diagnostics.KernelCounters}, {@link dev.timewait.diagnostics.TcpTable}), the
 * {@link dev.timewait.diagnostics.PortBudget} towards a destination, the
 * {@link dev.timewait.diagnostics.TimeWaitMonitor}, and the
 * {@link dev.timewait.diagnostics.StrategyAdvisor} that picks a {@link dev.timewait.CloseStrategy}
 * for a {@link dev.timewait.diagnostics.Workload}. Off Linux every reading is "unsupported on this
 * OS" as data, never an exception. Nothing here is needed to close connections well: the adapters
 * do not depend on this package.
 */
package dev.timewait.diagnostics;
