package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The kernel's TCP counters that tell what TIME_WAIT and resets are doing, read from {@code
 * /proc/net}: the TIME_WAIT total from {@code sockstat} (one cheap line, no table scan), the
 * {@code Tcp} line of {@code snmp} and the {@code TcpExt} line of {@code netstat}. They cover
 * the network namespace, both IPv4 and IPv6 ({@code sockstat}'s {@code tw} counts the IPv6
 * TIME_WAIT sockets too; {@code sockstat6} has no {@code tw}), except {@code orphan}, which Linux
 * counts for the whole host. The kernel's time-wait sockets include orphaned FIN_WAIT_2 ones (a
 * client closed first and the peer's FIN has not come), which live for {@code tcp_fin_timeout},
 * not 60 s: {@code tw} and {@code TcpExt.TW} count them too, so they can exceed the table's
 * TIME_WAIT rows.
 *
 * <pre>{@code
 * KernelCounters before = KernelCounters.read();
 * runLoad();
 * KernelCounters delta = KernelCounters.read().minus(before);
 * System.out.println(delta.describe());   // e.g. TcpExt.TCPAbortOnData = 5000: resets by SO_LINGER(0)
 * }</pre>
 *
 * <p>Off Linux, or where {@code /proc/net/sockstat} cannot be read, {@link #supported()} is false
 * with the reason, and every value is {@link #UNKNOWN}: data, never an exception. A single counter
 * the kernel does not print is {@link #UNKNOWN} too.
 *
 * <p>Immutable and thread-safe; {@link #read()} reads the files anew each call.
 *
 * @param supported whether the counters could be read
 * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
 * @param timeWait gauge: sockets in TIME_WAIT now ({@code sockstat} TCP {@code tw})
 * @param inUse gauge: TCP sockets in use, IPv4 and IPv6 ({@code sockstat} TCP + TCP6 {@code inuse})
 * @param orphans gauge: TCP sockets no process holds any more, host-wide ({@code sockstat} TCP
 *     {@code orphan})
 * @param activeOpens {@code Tcp.ActiveOpens}: connections this host opened (connect())
 * @param attemptFails {@code Tcp.AttemptFails}: connection attempts that failed
 * @param estabResets {@code Tcp.EstabResets}: established connections reset
 * @param outRsts {@code Tcp.OutRsts}: RST segments sent
 * @param twEntered {@code TcpExt.TW}: sockets put into TIME_WAIT on the full timer (older kernels
 *     count them when the timer ends)
 * @param twRecycled {@code TcpExt.TWRecycled}: TIME_WAIT ports that connect() took over under
 *     {@code tcp_tw_reuse}
 * @param twKilled {@code TcpExt.TWKilled}: time-wait sockets put on a short timer (at most 4 s)
 * @param timeWaitOverflow {@code TcpExt.TCPTimeWaitOverflow}: closing sockets destroyed without
 *     TIME_WAIT because {@code tcp_max_tw_buckets} was full
 * @param abortOnData {@code TcpExt.TCPAbortOnData}: connections reset on close with data or
 *     {@code SO_LINGER(0)}: the RSTs of a reset close
 * @param abortOnClose {@code TcpExt.TCPAbortOnClose}: connections reset because they were closed
 *     with unread received data
 */
public record KernelCounters(
    boolean supported,
    String unsupportedReason,
    long timeWait,
    long inUse,
    long orphans,
    long activeOpens,
    long attemptFails,
    long estabResets,
    long outRsts,
    long twEntered,
    long twRecycled,
    long twKilled,
    long timeWaitOverflow,
    long abortOnData,
    long abortOnClose) {

  /** The value of a counter that could not be read. */
  public static final long UNKNOWN = -1;

  /**
   * Validates: {@code unsupportedReason} must be non-null. Not the way in: use {@link #read()},
   * {@link #unsupported(String)} or {@link #builder()}; a later version may add components, which
   * changes this constructor.
   *
   * @param supported whether the counters could be read
   * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
   * @param timeWait gauge: sockets in TIME_WAIT now ({@code sockstat} TCP {@code tw})
   * @param inUse gauge: TCP sockets in use, IPv4 and IPv6 ({@code sockstat} TCP + TCP6 {@code inuse})
   * @param orphans gauge: TCP sockets no process holds any more ({@code sockstat} TCP {@code orphan})
   * @param activeOpens {@code Tcp.ActiveOpens}: connections this host opened (connect())
   * @param attemptFails {@code Tcp.AttemptFails}: connection attempts that failed
   * @param estabResets {@code Tcp.EstabResets}: established connections reset
   * @param outRsts {@code Tcp.OutRsts}: RST segments sent
   * @param twEntered {@code TcpExt.TW}: sockets put into TIME_WAIT on the full timer (older kernels
   *     count them when the timer ends)
   * @param twRecycled {@code TcpExt.TWRecycled}: TIME_WAIT ports that connect() took over under
   *     {@code tcp_tw_reuse}
   * @param twKilled {@code TcpExt.TWKilled}: time-wait sockets put on a short timer (at most 4 s)
   * @param timeWaitOverflow {@code TcpExt.TCPTimeWaitOverflow}: closing sockets destroyed without
   *     TIME_WAIT because {@code tcp_max_tw_buckets} was full
   * @param abortOnData {@code TcpExt.TCPAbortOnData}: connections reset on close with data or
   *     {@code SO_LINGER(0)}: the RSTs of a reset close
   * @param abortOnClose {@code TcpExt.TCPAbortOnClose}: connections reset because they were closed
   *     with unread received data
   */
  public KernelCounters {
    Preconditions.checkNotNull(unsupportedReason, "unsupportedReason");
  }

  /** {@return the live kernel's counters, from {@code /proc/net}} */
  public static KernelCounters read() {
    return read(ProcFs.PROC, true);
  }

  /**
   * The counters under {@code procRoot}, a directory laid out as {@code /proc}: {@code
   * procRoot/net/sockstat}, {@code sockstat6}, {@code snmp} and {@code netstat}. For fixtures;
   * it does not check the OS.
   *
   * @param procRoot a directory laid out as {@code /proc}
   * @return the counters under {@code procRoot}, a directory laid out as {@code /proc}
   */
  public static KernelCounters read(Path procRoot) {
    Preconditions.checkNotNull(procRoot, "procRoot");
    return read(procRoot, false);
  }

  /**
   * Counters that could not be read, with the reason.
   *
   * @param reason why they could not be read
   * @return counters that could not be read, with the reason
   */
  public static KernelCounters unsupported(String reason) {
    Preconditions.checkNotNull(reason, "reason");
    long u = UNKNOWN;
    return new KernelCounters(false, reason, u, u, u, u, u, u, u, u, u, u, u, u, u);
  }

  /**
   * The total of sockets in TIME_WAIT from the live kernel's {@code /proc/net/sockstat} alone:
   * the cheapest read there is, one short file. {@link #UNKNOWN} where it cannot be read.
   *
   * @return the total of sockets in TIME_WAIT from the live kernel's {@code /proc/net/sockstat} alone
   */
  public static long systemTimeWait() {
    if (ProcFs.unsupportedOs() != null) {
      return UNKNOWN;
    }
    return sockstatTimeWait(ProcFs.keyValueLines(ProcFs.read(ProcFs.PROC.resolve("net/sockstat"))),
        ProcFs.keyValueLines(ProcFs.read(ProcFs.PROC.resolve("net/sockstat6"))));
  }

  private static KernelCounters read(Path procRoot, boolean system) {
    String reason = ProcFs.unsupportedRoot(procRoot, system, "net/sockstat");
    if (reason != null) {
      return unsupported(reason);
    }
    Map<String, Map<String, Long>> sockstat =
        ProcFs.keyValueLines(ProcFs.read(procRoot.resolve("net/sockstat")));
    Map<String, Map<String, Long>> sockstat6 =
        ProcFs.keyValueLines(ProcFs.read(procRoot.resolve("net/sockstat6")));
    Map<String, Long> tcp = ProcFs.headerValuePairs(ProcFs.read(procRoot.resolve("net/snmp")))
        .getOrDefault("Tcp", Map.of());
    Map<String, Long> ext = ProcFs.headerValuePairs(ProcFs.read(procRoot.resolve("net/netstat")))
        .getOrDefault("TcpExt", Map.of());
    long inUse4 = get(sockstat.get("TCP"), "inuse");
    long inUse6 = get(sockstat6.get("TCP6"), "inuse");
    return new KernelCounters(
        true,
        "",
        sockstatTimeWait(sockstat, sockstat6),
        inUse4 < 0 ? UNKNOWN : inUse4 + Math.max(0, inUse6),
        get(sockstat.get("TCP"), "orphan"),
        get(tcp, "ActiveOpens"),
        get(tcp, "AttemptFails"),
        get(tcp, "EstabResets"),
        get(tcp, "OutRsts"),
        get(ext, "TW"),
        get(ext, "TWRecycled"),
        get(ext, "TWKilled"),
        get(ext, "TCPTimeWaitOverflow"),
        get(ext, "TCPAbortOnData"),
        get(ext, "TCPAbortOnClose"));
  }

  private static long sockstatTimeWait(
      Map<String, Map<String, Long>> sockstat, Map<String, Map<String, Long>> sockstat6) {
    long tw = get(sockstat.get("TCP"), "tw");
    long tw6 = get(sockstat6.get("TCP6"), "tw"); // not printed by Linux; counted in TCP's tw
    return tw < 0 ? UNKNOWN : tw + Math.max(0, tw6);
  }

  private static long get(Map<String, Long> values, String name) {
    if (values == null) {
      return UNKNOWN;
    }
    Long v = values.get(name);
    return v == null ? UNKNOWN : v;
  }

  /**
   * The change since {@code earlier}: each counter minus its earlier value, while the gauges
   * ({@link #timeWait()}, {@link #inUse()}, {@link #orphans()}) keep this reading's value. A value
   * unknown in either reading stays {@link #UNKNOWN}; unsupported stays unsupported.
   *
   * @param earlier the earlier reading
   * @return the change since {@code earlier}
   */
  public KernelCounters minus(KernelCounters earlier) {
    Preconditions.checkNotNull(earlier, "earlier");
    if (!supported) {
      return this;
    }
    if (!earlier.supported) {
      return earlier;
    }
    return new KernelCounters(true, "", timeWait, inUse, orphans,
        delta(activeOpens, earlier.activeOpens),
        delta(attemptFails, earlier.attemptFails),
        delta(estabResets, earlier.estabResets),
        delta(outRsts, earlier.outRsts),
        delta(twEntered, earlier.twEntered),
        delta(twRecycled, earlier.twRecycled),
        delta(twKilled, earlier.twKilled),
        delta(timeWaitOverflow, earlier.timeWaitOverflow),
        delta(abortOnData, earlier.abortOnData),
        delta(abortOnClose, earlier.abortOnClose));
  }

  private static long delta(long now, long before) {
    return now < 0 || before < 0 ? UNKNOWN : now - before;
  }

  /** {@return every value as a row with its kernel name and an explanation, in a fixed order} */
  public List<KernelCounter> counters() {
    return List.of(
        new KernelCounter("sockstat.tw", timeWait,
            "sockets in TIME_WAIT now, IPv4 and IPv6, in this network namespace"),
        new KernelCounter("sockstat.inuse", inUse,
            "TCP sockets in use now, IPv4 and IPv6, not counting TIME_WAIT"),
        new KernelCounter("sockstat.orphan", orphans,
            "TCP sockets no process holds any more (closing in the background)"),
        new KernelCounter("Tcp.ActiveOpens", activeOpens, "connections this host opened"),
        new KernelCounter("Tcp.AttemptFails", attemptFails, "connection attempts that failed"),
        new KernelCounter("Tcp.EstabResets", estabResets, "established connections reset"),
        new KernelCounter("Tcp.OutRsts", outRsts, "RST segments sent"),
        new KernelCounter("TcpExt.TW", twEntered,
            "sockets put into TIME_WAIT for the full 60 s"),
        new KernelCounter("TcpExt.TWRecycled", twRecycled,
            "TIME_WAIT ports that connect() took over under tcp_tw_reuse (needs timestamps on"
                + " both ends)"),
        new KernelCounter("TcpExt.TWKilled", twKilled,
            "time-wait sockets put on a short timer (at most 4 s) instead of 60 s"),
        new KernelCounter("TcpExt.TCPTimeWaitOverflow", timeWaitOverflow,
            "closing sockets destroyed without TIME_WAIT because tcp_max_tw_buckets was full"),
        new KernelCounter("TcpExt.TCPAbortOnData", abortOnData,
            "connections reset on close with unsent data or SO_LINGER(0): a reset close"),
        new KernelCounter("TcpExt.TCPAbortOnClose", abortOnClose,
            "connections reset because they were closed with unread received data"));
  }

  /** {@return a report: one line per counter, or the reason the counters are unsupported} */
  public String describe() {
    if (!supported) {
      return unsupportedReason;
    }
    StringBuilder sb = new StringBuilder();
    for (KernelCounter c : counters()) {
      sb.append(c.describe()).append('\n');
    }
    return sb.toString();
  }

  /** {@return a builder for counters that were read, every value {@link #UNKNOWN} until set} */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds {@link KernelCounters} that were read ({@link #supported()} true): fixtures, or an
   * earlier reading kept elsewhere. Each value defaults to {@link #UNKNOWN}. Not thread-safe.
   */
  public static final class Builder {
    private long timeWait = UNKNOWN;
    private long inUse = UNKNOWN;
    private long orphans = UNKNOWN;
    private long activeOpens = UNKNOWN;
    private long attemptFails = UNKNOWN;
    private long estabResets = UNKNOWN;
    private long outRsts = UNKNOWN;
    private long twEntered = UNKNOWN;
    private long twRecycled = UNKNOWN;
    private long twKilled = UNKNOWN;
    private long timeWaitOverflow = UNKNOWN;
    private long abortOnData = UNKNOWN;
    private long abortOnClose = UNKNOWN;

    private Builder() {}

    /** {@code value} if it is a count (&gt;= 0) or {@link KernelCounters#UNKNOWN}. */
    private static long known(long value, String name) {
      return Preconditions.checkInRange(value, UNKNOWN, Long.MAX_VALUE, name);
    }

    /**
     * Gauge: sockets in TIME_WAIT now.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder timeWait(long value) {
      this.timeWait = known(value, "timeWait");
      return this;
    }

    /**
     * Gauge: TCP sockets in use.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder inUse(long value) {
      this.inUse = known(value, "inUse");
      return this;
    }

    /**
     * Gauge: orphaned TCP sockets.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder orphans(long value) {
      this.orphans = known(value, "orphans");
      return this;
    }

    /**
     * {@code Tcp.ActiveOpens}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder activeOpens(long value) {
      this.activeOpens = known(value, "activeOpens");
      return this;
    }

    /**
     * {@code Tcp.AttemptFails}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder attemptFails(long value) {
      this.attemptFails = known(value, "attemptFails");
      return this;
    }

    /**
     * {@code Tcp.EstabResets}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder estabResets(long value) {
      this.estabResets = known(value, "estabResets");
      return this;
    }

    /**
     * {@code Tcp.OutRsts}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder outRsts(long value) {
      this.outRsts = known(value, "outRsts");
      return this;
    }

    /**
     * {@code TcpExt.TW}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder twEntered(long value) {
      this.twEntered = known(value, "twEntered");
      return this;
    }

    /**
     * {@code TcpExt.TWRecycled}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder twRecycled(long value) {
      this.twRecycled = known(value, "twRecycled");
      return this;
    }

    /**
     * {@code TcpExt.TWKilled}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder twKilled(long value) {
      this.twKilled = known(value, "twKilled");
      return this;
    }

    /**
     * {@code TcpExt.TCPTimeWaitOverflow}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder timeWaitOverflow(long value) {
      this.timeWaitOverflow = known(value, "timeWaitOverflow");
      return this;
    }

    /**
     * {@code TcpExt.TCPAbortOnData}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder abortOnData(long value) {
      this.abortOnData = known(value, "abortOnData");
      return this;
    }

    /**
     * {@code TcpExt.TCPAbortOnClose}.
     *
     * @param value the value, or {@link KernelCounters#UNKNOWN}
     * @return this builder
     */
    public Builder abortOnClose(long value) {
      this.abortOnClose = known(value, "abortOnClose");
      return this;
    }

    /** {@return the counters} */
    public KernelCounters build() {
      return new KernelCounters(true, "", timeWait, inUse, orphans, activeOpens, attemptFails, estabResets, outRsts, twEntered, twRecycled, twKilled, timeWaitOverflow, abortOnData, abortOnClose);
    }
  }
}
