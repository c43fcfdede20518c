package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;

/**
 * Thrown by {@link TimeWaitMonitor#checkBudget()} when the ephemeral ports left towards a
 * destination fall under the monitor's minimum headroom: BEFORE the kernel refuses a {@code
 * connect()} with {@code BindException: Cannot assign requested address}. The message says how
 * many ports are left, how many TIME_WAIT holds, and what to change.
 *
 * <pre>{@code
 * try {
 *   monitor.checkBudget();
 * } catch (PortHeadroomException e) {
 *   log.error("stopping the load: {}", e.getMessage());
 *   System.out.println(e.budget().describe());
 * }
 * }</pre>
 *
 * <p>Immutable, and thread-safe once thrown.
 */
public final class PortHeadroomException extends IllegalStateException {
  private final transient PortBudget budget;
  /** The least headroom the monitor accepts, in ports; the budget itself is not serialized. */
  private final int minHeadroom;

  /**
   * An exception for {@code budget}, whose headroom is under {@code minHeadroom} ports.
   *
   * @param budget the port budget
   * @param minHeadroom the least headroom the monitor accepts, in ports
   */
  public PortHeadroomException(PortBudget budget, int minHeadroom) {
    super(message(Preconditions.checkNotNull(budget, "budget"), minHeadroom));
    this.budget = budget;
    this.minHeadroom = minHeadroom;
  }

  private static String message(PortBudget b, int minHeadroom) {
    String to = HostPort.of(b.destination());
    return "Only " + b.headroom() + " ephemeral ports are left towards " + to + " (minimum "
        + minHeadroom + "): " + b.holdingPorts() + " of " + b.usablePorts() + " usable ports are"
        + " held, " + b.timeWait() + " of them in TIME_WAIT for up to 60 s. New connections will"
        + " soon fail with \"BindException: Cannot assign requested address\". Let the server"
        + " close first (CloseStrategy.serverClose()), reset after each exchange"
        + " (CloseStrategy.reset()), or keep connections alive (CloseStrategy.pooled()).";
  }

  /** {@return the budget that was too low; null after deserialization} */
  public PortBudget budget() {
    return budget;
  }

  /** {@return the least headroom the monitor accepts, in ports} */
  public int minHeadroom() {
    return minHeadroom;
  }
}
