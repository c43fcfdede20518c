package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's TCP settings that decide how fast a client can open connections, read from {@code
 * /proc/sys/net/ipv4}: the ephemeral port range and the reserved ports, {@code tcp_tw_reuse},
 * {@code tcp_timestamps}, {@code tcp_fin_timeout}, {@code tcp_max_tw_buckets}, {@code
 * tcp_tw_reuse_delay} and whether {@code tcp_tw_recycle} still exists. These settings are per
 * network namespace: a container sees its own.
 *
 * <pre>{@code
 * KernelSettings settings = KernelSettings.read();
 * if (settings.supported()) {
 *   System.out.println(settings.describe());
 *   System.out.printf("at most %.0f new connections/s per destination%n",
 *       settings.maxNewConnectionsPerSecond());
 * }
 * KernelSettings fixture = KernelSettings.read(Path.of("src/test/resources/proc"));
 * }</pre>
 *
 * <p>Off Linux, or where {@code ip_local_port_range} cannot be read, {@link #supported()} is
 * false with the reason in {@link #unsupportedReason()}, and the values are unknown: data, never
 * an exception. An unknown number is {@link #UNKNOWN} (-1), an unknown enum is its {@code
 * UNKNOWN} member, an unknown range is null.
 *
 * <p>Immutable and thread-safe; {@link #read()} reads the files anew each call.
 *
 * @param supported whether the settings could be read
 * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
 * @param localPortRange {@code ip_local_port_range}: the ephemeral ports; null when unknown
 * @param reservedPorts {@code ip_local_reserved_ports}: ports {@code connect()} never picks
 * @param usablePorts the ephemeral ports that are not reserved: the ports a client can use towards
 *     one destination ip:port; {@link #UNKNOWN} when unknown
 * @param twReuse {@code tcp_tw_reuse}
 * @param timestamps {@code tcp_timestamps}
 * @param finTimeoutSeconds {@code tcp_fin_timeout}: bounds orphaned FIN_WAIT_2, NOT TIME_WAIT
 * @param maxTwBuckets {@code tcp_max_tw_buckets}: the most TIME_WAIT sockets in the namespace
 * @param twRecycleExists whether {@code tcp_tw_recycle} exists (it was removed in Linux 4.12)
 * @param twReuseDelayMillis {@code tcp_tw_reuse_delay}: the least age of a TIME_WAIT that reuse
 *     may take over; {@link #UNKNOWN} where the kernel has no such setting (it then uses 1 s)
 * @param settings every setting with its raw value and an explanation, for a report
 */
public record KernelSettings(
    boolean supported,
    String unsupportedReason,
    PortRange localPortRange,
    List<PortRange> reservedPorts,
    int usablePorts,
    TwReuse twReuse,
    TcpTimestamps timestamps,
    int finTimeoutSeconds,
    int maxTwBuckets,
    boolean twRecycleExists,
    int twReuseDelayMillis,
    List<KernelSetting> settings) {

  /** The value of a number that could not be read. */
  public static final int UNKNOWN = -1;

  /**
   * How long TIME_WAIT lasts: 60 seconds, the kernel's constant {@code TCP_TIMEWAIT_LEN}. No
   * setting changes it; {@code tcp_fin_timeout} does not.
   */
  public static final int TIME_WAIT_SECONDS = 60;

  /** The directory of the settings, relative to a {@code /proc} root. */
  public static final String SETTINGS_DIR = "sys/net/ipv4";

  /**
   * Validates: lists and enums must be non-null. Not the way in: use {@link #read()}, {@link
   * #unsupported(String)} or {@link #builder()}; a later version may add components, which changes
   * this constructor.
   *
   * @param supported whether the settings could be read
   * @param unsupportedReason why not, starting with "unsupported on this OS"; empty when supported
   * @param localPortRange {@code ip_local_port_range}: the ephemeral ports; null when unknown
   * @param reservedPorts {@code ip_local_reserved_ports}: ports {@code connect()} never picks
   * @param usablePorts the ephemeral ports that are not reserved: the ports a client can use towards
   *     one destination ip:port; {@link #UNKNOWN} when unknown
   * @param twReuse {@code tcp_tw_reuse}
   * @param timestamps {@code tcp_timestamps}
   * @param finTimeoutSeconds {@code tcp_fin_timeout}: bounds orphaned FIN_WAIT_2, NOT TIME_WAIT
   * @param maxTwBuckets {@code tcp_max_tw_buckets}: the most TIME_WAIT sockets in the namespace
   * @param twRecycleExists whether {@code tcp_tw_recycle} exists (it was removed in Linux 4.12)
   * @param twReuseDelayMillis {@code tcp_tw_reuse_delay}: the least age of a TIME_WAIT that reuse
   *     may take over; {@link #UNKNOWN} where the kernel has no such setting (it then uses 1 s)
   * @param settings every setting with its raw value and an explanation, for a report
   */
  public KernelSettings {
    Preconditions.checkNotNull(unsupportedReason, "unsupportedReason");
    Preconditions.checkNotNull(reservedPorts, "reservedPorts");
    Preconditions.checkNotNull(twReuse, "twReuse");
    Preconditions.checkNotNull(timestamps, "timestamps");
    Preconditions.checkNotNull(settings, "settings");
    // UNKNOWN (-1) or a count: the advisor and the port budget compute with these.
    Preconditions.checkInRange(usablePorts, UNKNOWN, Integer.MAX_VALUE, "usablePorts");
    Preconditions.checkInRange(finTimeoutSeconds, UNKNOWN, Integer.MAX_VALUE, "finTimeoutSeconds");
    Preconditions.checkInRange(maxTwBuckets, UNKNOWN, Integer.MAX_VALUE, "maxTwBuckets");
    Preconditions.checkInRange(twReuseDelayMillis, UNKNOWN, Integer.MAX_VALUE, "twReuseDelayMillis");
    reservedPorts = List.copyOf(reservedPorts);
    settings = List.copyOf(settings);
  }

  /** {@return the live kernel's settings, from {@code /proc/sys/net/ipv4}} */
  public static KernelSettings read() {
    return read(ProcFs.PROC, true);
  }

  /**
   * The settings under {@code procRoot}, a directory laid out as {@code /proc}: the files are read
   * from {@code procRoot/sys/net/ipv4}. For fixtures; it does not check the OS.
   *
   * @param procRoot a directory laid out as {@code /proc}
   * @return the settings under {@code procRoot}, a directory laid out as {@code /proc}
   */
  public static KernelSettings read(Path procRoot) {
    Preconditions.checkNotNull(procRoot, "procRoot");
    return read(procRoot, false);
  }

  /**
   * Settings that could not be read, with the reason.
   *
   * @param reason why they could not be read
   * @return settings that could not be read, with the reason
   */
  public static KernelSettings unsupported(String reason) {
    Preconditions.checkNotNull(reason, "reason");
    return new KernelSettings(false, reason, null, List.of(), UNKNOWN, TwReuse.UNKNOWN,
        TcpTimestamps.UNKNOWN, UNKNOWN, UNKNOWN, false, UNKNOWN, List.of());
  }

  private static KernelSettings read(Path procRoot, boolean system) {
    String reason = ProcFs.unsupportedRoot(procRoot, system, SETTINGS_DIR + "/ip_local_port_range");
    if (reason != null) {
      return unsupported(reason);
    }
    Path dir = procRoot.resolve(SETTINGS_DIR);
    List<KernelSetting> rows = new ArrayList<>();

    String rangeText = value(dir, "ip_local_port_range");
    PortRange range;
    try {
      range = rangeText == null ? null : PortRange.parse(rangeText);
    } catch (IllegalArgumentException e) {
      range = null;
    }
    if (range == null) {
      return unsupported("unsupported on this OS: cannot parse " + dir.resolve("ip_local_port_range")
          + " (\"" + rangeText + "\")");
    }

    String reservedText = value(dir, "ip_local_reserved_ports");
    List<PortRange> reserved;
    try {
      reserved = reservedText == null ? List.of() : PortRange.parseList(reservedText);
    } catch (IllegalArgumentException e) {
      reserved = List.of();
    }
    int reservedInRange = PortRange.countIn(range, reserved);
    int usable = range.size() - reservedInRange;
    rows.add(row("ip_local_port_range", rangeText, range.size() + " ephemeral ports ("
        + range + ") for outgoing connections. A connect() needs a port that is free for its own"
        + " (source IP, destination IP, destination port), so a client that closes first can open"
        + " at most " + usable + " usable ports / " + TIME_WAIT_SECONDS + " s = "
        + perSecond(usable) + " new connections per second to one destination"));
    rows.add(row("ip_local_reserved_ports", reservedText, reserved.isEmpty()
        ? "no ports reserved: all " + range.size() + " ephemeral ports are usable"
        : reservedInRange + " reserved ports lie in the ephemeral range, so " + usable + " of "
            + range.size() + " are usable"));

    String reuseText = value(dir, "tcp_tw_reuse");
    TwReuse reuse = TwReuse.ofCode(number(reuseText));
    rows.add(row("tcp_tw_reuse", reuseText, reuse.describe()));

    String tsText = value(dir, "tcp_timestamps");
    TcpTimestamps ts = TcpTimestamps.ofCode(number(tsText));
    rows.add(row("tcp_timestamps", tsText, ts.describe()
        + (ts.enabled() ? "; tcp_tw_reuse still needs the peer to use timestamps too" : "")));

    String finText = value(dir, "tcp_fin_timeout");
    int fin = number(finText);
    rows.add(row("tcp_fin_timeout", finText, "how long an orphaned connection may wait in"
        + " FIN_WAIT_2 for the peer's FIN. It is NOT the length of TIME_WAIT, which is fixed at "
        + TIME_WAIT_SECONDS + " s (TCP_TIMEWAIT_LEN) and cannot be tuned"));

    String bucketsText = value(dir, "tcp_max_tw_buckets");
    int buckets = number(bucketsText);
    rows.add(row("tcp_max_tw_buckets", bucketsText, "at most "
        + (bucketsText == null ? "so many" : bucketsText) + " sockets in TIME_WAIT in this"
        + " network namespace; past that a closing socket is destroyed without TIME_WAIT and"
        + " TcpExt.TCPTimeWaitOverflow counts it"));

    String delayText = value(dir, "tcp_tw_reuse_delay");
    int delay = number(delayText);
    rows.add(row("tcp_tw_reuse_delay", delayText, delayText != null
        ? "tcp_tw_reuse takes over a TIME_WAIT port only once it is " + delayText + " ms old"
        : "not on this kernel: tcp_tw_reuse takes over a TIME_WAIT port once it is more than 1 s old"));

    String recycleText = value(dir, "tcp_tw_recycle");
    boolean recycle = recycleText != null;
    rows.add(row("tcp_tw_recycle", recycleText, recycle
        ? "this kernel is older than 4.12 and still has tcp_tw_recycle: keep it 0, because it"
            + " drops connections from clients behind NAT"
        : "removed in Linux 4.12 (it broke clients behind NAT): advice to turn it on is obsolete"));

    return builder().localPortRange(range).reservedPorts(reserved).twReuse(reuse).timestamps(ts)
        .finTimeoutSeconds(fin).maxTwBuckets(buckets).twRecycleExists(recycle)
        .twReuseDelayMillis(delay).settings(rows).build();
  }

  private static String value(Path dir, String name) {
    String text = ProcFs.read(dir.resolve(name));
    return text == null ? null : text.trim().replaceAll("\\s+", " ");
  }

  /** A count read from a file; UNKNOWN where missing, not a number, or below 0 (read never throws). */
  private static int number(String text) {
    if (text == null) {
      return UNKNOWN;
    }
    try {
      return Math.max(UNKNOWN, Integer.parseInt(text.trim()));
    } catch (NumberFormatException e) {
      return UNKNOWN;
    }
  }

  private static KernelSetting row(String file, String value, String explanation) {
    return new KernelSetting("net.ipv4." + file, value != null, value == null ? "" : value,
        explanation);
  }

  private static String perSecond(int usablePorts) {
    return Long.toString(Math.round(usablePorts / (double) TIME_WAIT_SECONDS));
  }

  /**
   * The most new connections per second a client that closes first can open to ONE destination
   * ip:port, with no TIME_WAIT reuse: {@link #usablePorts()} / {@link #TIME_WAIT_SECONDS}. About
   * 470 with the defaults. {@link #UNKNOWN} when unsupported.
   *
   * @return the most new connections per second a client that closes first can open to ONE destination ip:port, with no TIME_WAIT reuse
   */
  public double maxNewConnectionsPerSecond() {
    return usablePorts < 0 ? UNKNOWN : usablePorts / (double) TIME_WAIT_SECONDS;
  }

  /**
   * Whether THIS host's settings let {@code tcp_tw_reuse} take over TIME_WAIT ports towards
   * {@code destination}: reuse is {@link TwReuse#ALL}, or {@link TwReuse#LOOPBACK_ONLY} and the
   * destination is a loopback address, and timestamps are on here. The peer must use timestamps
   * too, which this host cannot know.
   *
   * @param destination the server's resolved ip:port
   * @return whether THIS host's settings let {@code tcp_tw_reuse} take over TIME_WAIT ports towards {@code destination}
   */
  public boolean twReuseAppliesTo(InetAddress destination) {
    Preconditions.checkNotNull(destination, "destination");
    boolean byAddress = twReuse == TwReuse.ALL
        || (twReuse == TwReuse.LOOPBACK_ONLY && destination.isLoopbackAddress());
    return byAddress && timestamps.enabled();
  }

  /**
   * The setting named {@code name} (with or without {@code net.ipv4.}), if listed.
   *
   * @param name a sysctl name, e.g. {@code tcp_tw_reuse}
   * @return the setting named {@code name} (with or without {@code net.ipv4.}), if listed
   */
  public Optional<KernelSetting> setting(String name) {
    Preconditions.checkNotNull(name, "name");
    String full = name.startsWith("net.ipv4.") ? name : "net.ipv4." + name;
    return settings.stream().filter(s -> s.name().equals(full)).findFirst();
  }

  /** {@return a report: one line per setting, or the reason the settings are unsupported} */
  public String describe() {
    if (!supported) {
      return unsupportedReason;
    }
    StringBuilder sb = new StringBuilder();
    for (KernelSetting s : settings) {
      sb.append(s.describe()).append('\n');
    }
    return sb.toString();
  }

  /**
   * {@return a builder for settings that were read, every value unknown until set; fixtures and
   * what-if questions ("the same host with tcp_tw_reuse=0") are its use}
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@return a builder holding these settings, to change some of them}
   *
   * @throws IllegalStateException if these settings are unsupported: they hold no values
   */
  public Builder toBuilder() {
    if (!supported) {
      throw new IllegalStateException("settings are unsupported (" + unsupportedReason
          + "): they hold no values to change");
    }
    return new Builder().localPortRange(localPortRange).reservedPorts(reservedPorts)
        .twReuse(twReuse).timestamps(timestamps).finTimeoutSeconds(finTimeoutSeconds)
        .maxTwBuckets(maxTwBuckets).twRecycleExists(twRecycleExists)
        .twReuseDelayMillis(twReuseDelayMillis).settings(settings);
  }

  /**
   * Builds {@link KernelSettings} that were read ({@link #supported()} true). {@link
   * #usablePorts()} is derived: the range's size less the reserved ports in it. Nulls fail at
   * once; {@link #build()} needs a port range. Not thread-safe.
   */
  public static final class Builder {
    private PortRange localPortRange;
    private List<PortRange> reservedPorts = List.of();
    private TwReuse twReuse = TwReuse.UNKNOWN;
    private TcpTimestamps timestamps = TcpTimestamps.UNKNOWN;
    private int finTimeoutSeconds = UNKNOWN;
    private int maxTwBuckets = UNKNOWN;
    private boolean twRecycleExists;
    private int twReuseDelayMillis = UNKNOWN;
    private List<KernelSetting> settings = List.of();

    private Builder() {}

    /**
     * {@code ip_local_port_range}; required.
     *
     * @param localPortRange the ephemeral ports
     * @return this builder
     */
    public Builder localPortRange(PortRange localPortRange) {
      this.localPortRange = Preconditions.checkNotNull(localPortRange, "localPortRange");
      return this;
    }

    /**
     * {@code ip_local_reserved_ports}; default none.
     *
     * @param reservedPorts ports {@code connect()} never picks
     * @return this builder
     */
    public Builder reservedPorts(List<PortRange> reservedPorts) {
      this.reservedPorts = List.copyOf(Preconditions.checkNotNull(reservedPorts, "reservedPorts"));
      return this;
    }

    /**
     * {@code tcp_tw_reuse}; default {@link TwReuse#UNKNOWN}.
     *
     * @param twReuse the setting
     * @return this builder
     */
    public Builder twReuse(TwReuse twReuse) {
      this.twReuse = Preconditions.checkNotNull(twReuse, "twReuse");
      return this;
    }

    /**
     * {@code tcp_timestamps}; default {@link TcpTimestamps#UNKNOWN}.
     *
     * @param timestamps the setting
     * @return this builder
     */
    public Builder timestamps(TcpTimestamps timestamps) {
      this.timestamps = Preconditions.checkNotNull(timestamps, "timestamps");
      return this;
    }

    /**
     * {@code tcp_fin_timeout} in seconds; default {@link KernelSettings#UNKNOWN}.
     *
     * @param finTimeoutSeconds the setting
     * @return this builder
     */
    public Builder finTimeoutSeconds(int finTimeoutSeconds) {
      this.finTimeoutSeconds = finTimeoutSeconds;
      return this;
    }

    /**
     * {@code tcp_max_tw_buckets}; default {@link KernelSettings#UNKNOWN}.
     *
     * @param maxTwBuckets the setting
     * @return this builder
     */
    public Builder maxTwBuckets(int maxTwBuckets) {
      this.maxTwBuckets = maxTwBuckets;
      return this;
    }

    /**
     * Whether {@code tcp_tw_recycle} exists; default false, as since Linux 4.12.
     *
     * @param twRecycleExists whether the setting exists
     * @return this builder
     */
    public Builder twRecycleExists(boolean twRecycleExists) {
      this.twRecycleExists = twRecycleExists;
      return this;
    }

    /**
     * {@code tcp_tw_reuse_delay} in milliseconds; default {@link KernelSettings#UNKNOWN}.
     *
     * @param twReuseDelayMillis the setting
     * @return this builder
     */
    public Builder twReuseDelayMillis(int twReuseDelayMillis) {
      this.twReuseDelayMillis = twReuseDelayMillis;
      return this;
    }

    /**
     * The rows of a report, each setting with its raw value and explanation; default none.
     *
     * @param settings the rows
     * @return this builder
     */
    public Builder settings(List<KernelSetting> settings) {
      this.settings = List.copyOf(Preconditions.checkNotNull(settings, "settings"));
      return this;
    }

    /**
     * {@return the settings}
     *
     * @throws IllegalStateException if no port range was set
     */
    public KernelSettings build() {
      if (localPortRange == null) {
        throw new IllegalStateException("localPortRange must be set");
      }
      int usable = localPortRange.size() - PortRange.countIn(localPortRange, reservedPorts);
      return new KernelSettings(true, "", localPortRange, reservedPorts, usable, twReuse,
          timestamps, finTimeoutSeconds, maxTwBuckets, twRecycleExists, twReuseDelayMillis,
          settings);
    }
  }
}
