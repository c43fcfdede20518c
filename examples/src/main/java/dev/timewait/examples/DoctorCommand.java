package dev.timewait.examples;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.diagnostics.Workload;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code doctor [host:port]}: reports this host's kernel settings with what each means, its TCP
 * counters, the port budget towards a destination, the
 * {@link dev.timewait.diagnostics.StrategyAdvisor}'s recommendation for a workload described by
 * flags, and what to change and why. With {@code
 * --json}, the same data as one JSON object on one line (see {@link DoctorReport#toJson()}).
 *
 * <pre>{@code
 * java -jar examples/target/timewait-load.jar doctor
 * java -jar examples/target/timewait-load.jar doctor 10.0.0.7:443 --no-keep-alive --rate 2000 --no-resets
 * java -jar examples/target/timewait-load.jar doctor '[::1]:8080' --json
 * }</pre>
 *
 * <p>Off Linux every section says "unsupported on this OS" and the exit code is still 0. A
 * malformed or unresolvable destination, a bad flag, or a flag given with its opposite, exits 2
 * with a one-line reason and the usage on stderr. It only reads {@code /proc}; it never connects
 * to the destination.
 *
 * <p>Not thread-safe; picocli makes one per run.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    versionProvider = TimeWaitLoad.Version.class,
    sortOptions = false,
    header = "Explains this host's TIME_WAIT limits and advises a close strategy.",
    description = {
      "Prints the kernel's TCP settings with what each means, the TCP counters, the port budget "
          + "towards host:port (when given), the recommended close strategy for the workload the flags "
          + "describe, and what to change and why. Reads /proc only; never connects.",
      "Exit 0 (also off Linux, where each section says \"unsupported on this OS\"), 2 for bad arguments."
    })
public final class DoctorCommand implements Callable<Integer> {
  private static final String DEFAULT = " (default)";

  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "host:port",
      description = "Destination for the port budget: an IPv4 address, a host name, or an IPv6 address "
          + "in brackets ([::1]:8080). Optional.")
  String destination;

  private boolean keepAliveAllowed = Workload.DEFAULT_KEEP_ALIVE_ALLOWED;
  private boolean peerMayDisableTimestamps = Workload.DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS;
  private boolean resetsAcceptable = Workload.DEFAULT_RESETS_ACCEPTABLE;
  /** The workload flags given, so that a contradictory pair is refused rather than the last winning. */
  private final Set<String> given = new LinkedHashSet<>();

  /** Each flag with its opposite. */
  private static final List<List<String>> OPPOSITES = List.of(
      List.of("--keep-alive", "--no-keep-alive"),
      List.of("--timestamps-off", "--timestamps-on"),
      List.of("--resets-ok", "--no-resets"));

  @Option(names = "--keep-alive", order = 1,
      description = "Requests may share connections" + (Workload.DEFAULT_KEEP_ALIVE_ALLOWED ? DEFAULT : "") + ".")
  void keepAlive(boolean unused) {
    keepAliveAllowed = true;
    given.add("--keep-alive");
  }

  @Option(names = "--no-keep-alive", order = 2,
      description = "Each request needs its own connection" + (Workload.DEFAULT_KEEP_ALIVE_ALLOWED ? "" : DEFAULT) + ".")
  void noKeepAlive(boolean unused) {
    keepAliveAllowed = false;
    given.add("--no-keep-alive");
  }

  @Option(names = "--rate", order = 3, paramLabel = "N",
      defaultValue = "" + (long) Workload.DEFAULT_NEW_CONNECTIONS_PER_SECOND,
      description = "New connections per second the client would open with a connection per request "
          + "(its request rate), 0 to " + (long) Workload.MAX_NEW_CONNECTIONS_PER_SECOND
          + ". Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(names = "--timestamps-off", order = 4,
      description = "The peer may have TCP timestamps off, as cloud load balancers often do, so tcp_tw_reuse "
          + "cannot help" + (Workload.DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS ? DEFAULT : "") + ".")
  void timestampsOff(boolean unused) {
    peerMayDisableTimestamps = true;
    given.add("--timestamps-off");
  }

  @Option(names = "--timestamps-on", order = 5,
      description = "The peer surely uses TCP timestamps" + (Workload.DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS ? "" : DEFAULT)
          + ".")
  void timestampsOn(boolean unused) {
    peerMayDisableTimestamps = false;
    given.add("--timestamps-on");
  }

  @Option(names = "--resets-ok", order = 6,
      description = "The server tolerates an RST after a complete exchange"
          + (Workload.DEFAULT_RESETS_ACCEPTABLE ? DEFAULT : "") + ".")
  void resetsOk(boolean unused) {
    resetsAcceptable = true;
    given.add("--resets-ok");
  }

  @Option(names = "--no-resets", order = 7,
      description = "RSTs are not acceptable (alarms, error counts)" + (Workload.DEFAULT_RESETS_ACCEPTABLE ? "" : DEFAULT)
          + ".")
  void noResets(boolean unused) {
    resetsAcceptable = false;
    given.add("--no-resets");
  }

  @Option(names = "--json", order = 8, description = "Print the report as one JSON object on one line instead.")
  boolean json;

  @Override
  public Integer call() {
    checkNoContradiction();
    InetSocketAddress target = destination == null ? null : parseDestination(destination);
    Workload workload = workload(target);
    KernelSettings settings = KernelSettings.read();
    KernelCounters counters = KernelCounters.read();
    PortBudget budget = target == null ? null : PortBudget.of(target, settings, TcpTable.system());
    DoctorReport report = DoctorReport.of(settings, counters, budget, workload);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(report.toJson());
    } else {
      out.print(report.toText());
    }
    out.flush();
    return TimeWaitLoad.EXIT_OK;
  }

  /** Refuses a flag given with its opposite: which one the user meant is anybody's guess. */
  void checkNoContradiction() {
    for (List<String> pair : OPPOSITES) {
      if (given.containsAll(pair)) {
        throw bad(pair.get(0) + " and " + pair.get(1) + " contradict each other: give one of them");
      }
    }
  }

  /** The workload the flags describe; a loopback destination is noted as such. */
  Workload workload(InetSocketAddress target) {
    if (!(rate >= 0 && rate <= Workload.MAX_NEW_CONNECTIONS_PER_SECOND)) {
      throw bad("--rate must be 0 to " + (long) Workload.MAX_NEW_CONNECTIONS_PER_SECOND + ", but was "
          + (rate == Math.rint(rate) && !Double.isInfinite(rate) ? Long.toString((long) rate) : Double.toString(rate)));
    }
    return Workload.builder()
        .keepAliveAllowed(keepAliveAllowed)
        .newConnectionsPerSecond(rate)
        .peerMayDisableTimestamps(peerMayDisableTimestamps)
        .resetsAcceptable(resetsAcceptable)
        .loopbackDestination(target != null && target.getAddress().isLoopbackAddress())
        .build();
  }

  /**
   * Parses {@code host:port} ({@code [v6]:port} for IPv6) and resolves the host, or throws a
   * ParameterException (exit 2) naming the problem.
   */
  InetSocketAddress parseDestination(String text) {
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw bad("destination must be host:port or [IPv6]:port, but was " + text);
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw bad("destination must be host:port, but was " + text + " (no port)");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      if (host.contains(":")) {
        throw bad("destination with an IPv6 address must be [address]:port, but was " + text);
      }
    }
    if (host.isEmpty()) {
      throw bad("destination must name a host, but was " + text);
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw bad("destination port must be a number 1 to 65535, but was \"" + port + "\"");
    }
    if (p < 1 || p > 65535) {
      throw bad("destination port must be 1 to 65535, but was " + p);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), p);
    } catch (UnknownHostException e) {
      throw bad("destination host cannot be resolved: " + host);
    }
  }

  private ParameterException bad(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
