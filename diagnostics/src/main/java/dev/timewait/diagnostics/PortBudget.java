package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The ephemeral-port budget of this host towards ONE destination ip:port. The kernel picks a
 * local port for {@code connect()} so that the 4-tuple is unique, so each destination has its
 * own budget: the ports of {@code ip_local_port_range} minus {@code ip_local_reserved_ports}.
 * Every socket connected to the destination holds one of them, in any state, and a socket in
 * TIME_WAIT holds it for 60 s after the client closed first. When none is left, {@code connect()}
 * fails with {@code BindException: Cannot assign requested address}.
 *
 * <pre>{@code
 * PortBudget budget = PortBudget.of(new InetSocketAddress("10.0.0.7", 443));
 * if (budget.supported()) {
 *   System.out.println(budget.describe());
 *   if (budget.headroom() < 1000) throw new IllegalStateException("ports running out");
 * }
 * }</pre>
 *
 * <p>The budget is per (source IP, destination IP, destination port); a host with several source
 * addresses has one budget per source address, and this counts the sockets of all of them. It
 * is conservative where {@code tcp_tw_reuse} applies ({@link #twReuseMayApply()}): the kernel may
 * then take over TIME_WAIT ports older than 1 s, which are still counted as held here.
 *
 * <p>Off Linux, {@link #supported()} is false with the reason and the numbers are 0: data, never
 * an exception. Immutable and thread-safe.
 *
 * @param supported whether the kernel's settings and tables could be read
 * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
 * @param destination the server's resolved ip:port ip:port
 * @param localPortRange the ephemeral port range; null when unsupported
 * @param reservedInRange the reserved ports inside the range
 * @param usablePorts the ports a connection to the destination can use: range minus reserved
 * @param sockets the sockets connected to the destination now, by state (non-zero counts only)
 * @param timeWait the sockets in TIME_WAIT towards the destination now
 * @param holdingPorts the sockets connected to the destination now, in any state: each holds a port
 * @param headroom the ports left for new connections: {@code usablePorts - holdingPorts}, at least 0
 * @param sustainableNewConnectionsPerSecond the most new connections per second a client that
 *     closes first can keep opening: {@code usablePorts / 60 s} (about 470 with the defaults)
 * @param twReuseMayApply whether this host's {@code tcp_tw_reuse} and {@code tcp_timestamps}
 *     let the kernel reuse TIME_WAIT ports towards the destination, if the peer uses timestamps
 */
public record PortBudget(
    boolean supported,
    String unsupportedReason,
    InetSocketAddress destination,
    PortRange localPortRange,
    int reservedInRange,
    int usablePorts,
    Map<TcpState, Integer> sockets,
    int timeWait,
    int holdingPorts,
    int headroom,
    double sustainableNewConnectionsPerSecond,
    boolean twReuseMayApply) {

  /**
   * Validates: the reason, destination and sockets must be non-null. Not the way in: use {@link
   * #of(InetSocketAddress)} and its overloads, or {@link #unsupported}; a later version may add
   * components, which changes this constructor.
   *
   * @param supported whether the kernel's settings and tables could be read
   * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
   * @param destination the server's resolved ip:port ip:port
   * @param localPortRange the ephemeral port range; null when unsupported
   * @param reservedInRange the reserved ports inside the range
   * @param usablePorts the ports a connection to the destination can use: range minus reserved
   * @param sockets the sockets connected to the destination now, by state (non-zero counts only)
   * @param timeWait the sockets in TIME_WAIT towards the destination now
   * @param holdingPorts the sockets connected to the destination now, in any state: each holds a port
   * @param headroom the ports left for new connections: {@code usablePorts - holdingPorts}, at least 0
   * @param sustainableNewConnectionsPerSecond the most new connections per second a client that
   *     closes first can keep opening: {@code usablePorts / 60 s} (about 470 with the defaults)
   * @param twReuseMayApply whether this host's {@code tcp_tw_reuse} and {@code tcp_timestamps}
   *     let the kernel reuse TIME_WAIT ports towards the destination, if the peer uses timestamps
   */
  public PortBudget {
    Preconditions.checkNotNull(unsupportedReason, "unsupportedReason");
    Preconditions.checkNotNull(destination, "destination");
    Preconditions.checkNotNull(sockets, "sockets");
    EnumMap<TcpState, Integer> byState = new EnumMap<>(TcpState.class);
    byState.putAll(sockets);
    sockets = Collections.unmodifiableMap(byState);
  }

  /**
   * The live kernel's budget towards {@code destination}: one scan of the TCP tables.
   *
   * @param destination the server's resolved ip:port
   * @return the live kernel's budget towards {@code destination}
   */
  public static PortBudget of(InetSocketAddress destination) {
    return of(destination, KernelSettings.read(), TcpTable.system());
  }

  /**
   * The budget from {@code settings} and a scan of {@code table}: fixtures, say.
   *
   * @param destination the server's resolved ip:port
   * @param settings the kernel settings
   * @param table the TCP table to read
   * @return the budget from {@code settings} and a scan of {@code table}
   */
  public static PortBudget of(InetSocketAddress destination, KernelSettings settings, TcpTable table) {
    TcpFilter filter = filter(destination);
    Preconditions.checkNotNull(settings, "settings");
    Preconditions.checkNotNull(table, "table");
    return of(destination, settings, table.count(filter));
  }

  /**
   * The budget from {@code settings} and {@code counts}, which must be the counts of {@link
   * #filter(InetSocketAddress) filter(destination)}. Pure: reads nothing.
   *
   * @param destination the server's resolved ip:port
   * @param settings the kernel settings
   * @param counts the sockets towards {@code destination}, by state
   * @return the budget from {@code settings} and {@code counts}, which must be the counts of {@link #filter(InetSocketAddress) filter(destination)}
   */
  public static PortBudget of(InetSocketAddress destination, KernelSettings settings, TcpCounts counts) {
    Preconditions.checkNotNull(destination, "destination");
    Preconditions.checkNotNull(settings, "settings");
    Preconditions.checkNotNull(counts, "counts");
    if (!settings.supported()) {
      return unsupported(destination, settings.unsupportedReason());
    }
    if (!counts.supported()) {
      return unsupported(destination, counts.unsupportedReason().orElse("unsupported on this OS"));
    }
    int usable = settings.usablePorts();
    int holding = counts.total();
    return new PortBudget(
        true,
        "",
        destination,
        settings.localPortRange(),
        settings.localPortRange().size() - usable,
        usable,
        counts.asMap(),
        counts.timeWait(),
        holding,
        Math.max(0, usable - holding),
        usable / (double) KernelSettings.TIME_WAIT_SECONDS,
        settings.twReuseAppliesTo(destination.getAddress()));
  }

  /**
   * A budget that could not be computed, with the reason.
   *
   * @param destination the server's resolved ip:port
   * @param reason why they could not be read
   * @return a budget that could not be computed, with the reason
   */
  public static PortBudget unsupported(InetSocketAddress destination, String reason) {
    Preconditions.checkNotNull(destination, "destination");
    Preconditions.checkNotNull(reason, "reason");
    return new PortBudget(false, reason, destination, null, 0, 0, Map.of(), 0, 0, 0, 0, false);
  }

  /**
   * The filter of the sockets that hold a port towards {@code destination}: {@link
   * TcpFilter#remote(InetSocketAddress)}.
   *
   * @param destination the server's resolved ip:port
   * @return the filter of the sockets that hold a port towards {@code destination}
   * @throws IllegalArgumentException if the address is unresolved or its port is 0
   */
  public static TcpFilter filter(InetSocketAddress destination) {
    Preconditions.checkNotNull(destination, "destination");
    return TcpFilter.remote(destination);
  }

  /** {@return the share of the usable ports in TIME_WAIT towards the destination, 0 to 1; 0 if unknown} */
  public double timeWaitShare() {
    return usablePorts <= 0 ? 0 : Math.min(1.0, timeWait / (double) usablePorts);
  }

  /** {@return the share of the usable ports held by any socket towards the destination, 0 to 1} */
  public double heldShare() {
    return usablePorts <= 0 ? 0 : Math.min(1.0, holdingPorts / (double) usablePorts);
  }

  /** {@return a report in a few lines, or the reason the budget is unsupported} */
  public String describe() {
    String to = HostPort.of(destination);
    if (!supported) {
      return "port budget towards " + to + ": " + unsupportedReason;
    }
    return String.format(Locale.ROOT,
        "port budget towards %s:%n"
            + "  usable ports: %d (range %s, %d reserved in it)%n"
            + "  held now: %d (%.1f%%), %d of them in TIME_WAIT (%.1f%%); by state: %s%n"
            + "  headroom: %d ports for new connections%n"
            + "  sustainable when the client closes first: %s new connections/s (%d ports / %d s)%n"
            + "  tcp_tw_reuse: %s%n",
        to, usablePorts, localPortRange, reservedInRange, holdingPorts, 100 * heldShare(), timeWait,
        100 * timeWaitShare(), sockets, headroom,
        String.format(Locale.ROOT, sustainableNewConnectionsPerSecond >= 10 ? "%.0f" : "%.1f",
            sustainableNewConnectionsPerSecond),
        usablePorts,
        KernelSettings.TIME_WAIT_SECONDS,
        twReuseExplanation());
  }

  /**
   * {@return what {@code tcp_tw_reuse} means towards this destination, in one line, from {@link
   * #twReuseMayApply()}}
   */
  public String twReuseExplanation() {
    return TwReuseAdvice.forBudget(twReuseMayApply);
  }
}
