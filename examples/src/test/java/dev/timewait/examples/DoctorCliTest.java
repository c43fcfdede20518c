package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.diagnostics.Workload;
import dev.timewait.examples.LoadCliTest.Run;
import dev.timewait.testing.ClientClosesFirst;
import dev.timewait.testing.KernelTcp;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code doctor} command: its sections, its JSON, the port budget against live TIME_WAIT
 * made on loopback, the workload flags, bad input, and (from readings made unsupported on
 * purpose) what it says off Linux.
 */
class DoctorCliTest {
  static final List<String> JSON_FIELDS = List.of("os", "destination", "settings", "counters", "budget",
      "workload", "advice", "changes");

  @TempDir Path tmp;

  static JsonNode parse(String json) throws Exception {
    return new ObjectMapper().readTree(json);
  }

  @Test
  void textOutputHasEverySectionAndExitsZero() {
    Run run = LoadCliTest.cli("doctor", "127.0.0.1:8080");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();
    for (String section : DoctorReport.SECTIONS) {
      assertThat(run.out()).contains("== " + section);
    }
    assertThat(run.out()).contains("== Port budget towards 127.0.0.1:8080 ==")
        .contains("recommended: pooled keep-alive retired by reset");
  }

  @Test
  void textOnLinuxExplainsEachSettingAndCounterAndTheBudget() {
    KernelTcp.assumeReadable();

    Run run = LoadCliTest.cli("doctor", "127.0.0.1:8080");

    String out = run.out().replaceAll("\\s+", " ");
    for (var s : KernelSettings.read().settings()) {
      assertThat(out).contains(s.name());
    }
    for (var c : KernelCounters.read().counters()) {
      assertThat(out).contains(c.name());
    }
    assertThat(out).contains("It is NOT the length of TIME_WAIT")
        .contains("net.ipv4.tcp_tw_recycle")
        .contains("4.12")
        .contains("ports in range: ")
        .contains("reserved: ")
        .contains("usable: ")
        .contains("sockets by state: ")
        .contains("TIME_WAIT now: ")
        .contains("new connections/s when the client closes first")
        .contains("headroom: ")
        .containsPattern("Your port range has \\d+ usable ports: a client that closes first can open at most"
            + " \\d+ / 60 s = \\d+ new connections/s to 127.0.0.1:8080");
  }

  @Test
  void withoutADestinationTheBudgetSectionSaysHowToAskForIt() {
    Run run = LoadCliTest.cli("doctor");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("== Port budget ==")
        .contains("no destination given: run `doctor host:port` for the budget towards it.");
  }

  @Test
  void jsonIsOneObjectOnOneLineWithSettingsCountersBudgetAndAdvice() throws Exception {
    Run run = LoadCliTest.cli("doctor", "127.0.0.1:8080", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().strip()).doesNotContain("\n");
    JsonNode json = parse(run.out());
    assertThat(json.fieldNames()).toIterable().containsExactlyElementsOf(JSON_FIELDS);
    assertThat(json.get("destination").asText()).isEqualTo("127.0.0.1:8080");
    assertThat(json.get("settings").get("supported").isBoolean()).isTrue();
    assertThat(json.get("settings").has("usablePorts")).isTrue();
    assertThat(json.get("settings").get("timeWaitSeconds").asInt()).isEqualTo(60);
    assertThat(json.get("counters").get("values").has("sockstat.tw")).isTrue();
    JsonNode budget = json.get("budget");
    for (String field : List.of("portsInRange", "reserved", "usable", "sockets", "timeWait", "headroom",
        "sustainableNewConnectionsPerSecond")) {
      assertThat(budget.has(field)).as(field).isTrue();
    }
    assertThat(json.get("advice").get("strategy").asText()).isEqualTo("pooled");
    assertThat(json.get("advice").get("retirement").asText()).isEqualTo("RESET");
    assertThat(json.get("advice").get("reasons").size()).isPositive();
    assertThat(json.get("changes").size()).isPositive();
    if (TcpTable.system().isSupported()) {
      assertThat(json.get("settings").get("rows").size()).isEqualTo(KernelSettings.read().settings().size());
      assertThat(budget.get("supported").asBoolean()).isTrue();
      assertThat(budget.get("usable").asInt()).isEqualTo(KernelSettings.read().usablePorts());
      assertThat(budget.get("sustainableNewConnectionsPerSecond").asDouble())
          .isCloseTo(KernelSettings.read().usablePorts() / 60.0, org.assertj.core.data.Offset.offset(0.001));
    }
  }

  @Test
  void jsonWithoutADestinationHasANullBudget() throws Exception {
    JsonNode json = parse(LoadCliTest.cli("doctor", "--json").out());

    assertThat(json.get("destination").isNull()).isTrue();
    assertThat(json.get("budget").isNull()).isTrue();
    assertThat(json.get("workload").get("loopbackDestination").asBoolean()).isFalse();
  }

  @Test
  void budgetTowardsADestinationWithLiveTimeWaitShowsTheKernelsCount() throws Exception {
    KernelTcp.assumeReadable();
    try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
      int port = peer.ports().get(0);
      int made = peer.run(200, Duration.ofSeconds(30));
      KernelTcp.awaitClientSettled(port, Duration.ofSeconds(5));
      int kernelTimeWait = KernelTcp.clientTimeWait(port);
      assertThat(made).isEqualTo(200);
      assertThat(kernelTimeWait).as(KernelTcp.describe(port)).isGreaterThanOrEqualTo(190);

      JsonNode budget = parse(LoadCliTest.cli("doctor", "127.0.0.1:" + port, "--json").out()).get("budget");
      Run text = LoadCliTest.cli("doctor", "127.0.0.1:" + port);

      // TIME_WAIT lasts 60 s, so the count cannot change between these reads.
      assertThat(budget.get("timeWait").asInt()).isEqualTo(kernelTimeWait);
      assertThat(budget.get("sockets").get("TIME_WAIT").asInt()).isEqualTo(kernelTimeWait);
      assertThat(budget.get("holdingPorts").asInt()).isGreaterThanOrEqualTo(kernelTimeWait);
      assertThat(budget.get("headroom").asInt())
          .isEqualTo(budget.get("usable").asInt() - budget.get("holdingPorts").asInt());
      assertThat(text.out()).contains("TIME_WAIT now:    " + kernelTimeWait + " (")
          .contains("TIME_WAIT " + kernelTimeWait);
      assertThat(text.out().replaceAll("\\s+", " "))
          .contains(kernelTimeWait + " sockets towards 127.0.0.1:" + port + " are in TIME_WAIT now");
    }
  }

  @ParameterizedTest(name = "{0} -> {1} {2}")
  @CsvSource(delimiter = '|', value = {
    "''                                       | pooled       | RESET",
    "--no-resets                              | pooled       | SERVER_CLOSE",
    "--no-keep-alive --no-resets              | server-close | ''",
    "--no-keep-alive --rate 2000              | reset        | ''",
    "--no-keep-alive --rate 10                | server-close | ''",
    "--keep-alive --no-resets                 | pooled       | SERVER_CLOSE",
  })
  void workloadFlagsChooseTheAdvice(String flags, String strategy, String retirement) throws Exception {
    List<String> args = new ArrayList<>(List.of("doctor", "10.0.0.7:443", "--json"));
    if (!flags.isBlank()) {
      args.addAll(List.of(flags.trim().split("\\s+")));
    }

    Run run = LoadCliTest.cli(args.toArray(String[]::new));

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode advice = parse(run.out()).get("advice");
    assertThat(advice.get("strategy").asText()).isEqualTo(strategy);
    if (retirement.isEmpty()) {
      assertThat(advice.get("retirement").isNull()).isTrue();
    } else {
      assertThat(advice.get("retirement").asText()).isEqualTo(retirement);
    }
  }

  @Test
  void workloadFlagsReachTheReportAndDefaultsAreTheWorkloadDefaults() throws Exception {
    JsonNode defaults = parse(LoadCliTest.cli("doctor", "10.0.0.7:443", "--json").out()).get("workload");
    JsonNode flagged = parse(LoadCliTest.cli("doctor", "127.0.0.1:443", "--json", "--no-keep-alive",
        "--rate", "12.5", "--timestamps-on", "--no-resets").out()).get("workload");

    assertThat(defaults.get("keepAliveAllowed").asBoolean()).isEqualTo(Workload.DEFAULT_KEEP_ALIVE_ALLOWED);
    assertThat(defaults.get("newConnectionsPerSecond").asDouble())
        .isEqualTo(Workload.DEFAULT_NEW_CONNECTIONS_PER_SECOND);
    assertThat(defaults.get("peerMayDisableTimestamps").asBoolean())
        .isEqualTo(Workload.DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS);
    assertThat(defaults.get("resetsAcceptable").asBoolean()).isEqualTo(Workload.DEFAULT_RESETS_ACCEPTABLE);
    assertThat(defaults.get("loopbackDestination").asBoolean()).isFalse();
    assertThat(flagged.get("keepAliveAllowed").asBoolean()).isFalse();
    assertThat(flagged.get("newConnectionsPerSecond").asDouble()).isEqualTo(12.5);
    assertThat(flagged.get("peerMayDisableTimestamps").asBoolean()).isFalse();
    assertThat(flagged.get("resetsAcceptable").asBoolean()).isFalse();
    assertThat(flagged.get("loopbackDestination").asBoolean()).isTrue();
  }

  @Test
  void helpStatesTheWorkloadDefaults() {
    Run run = LoadCliTest.cli("doctor", "--help");

    assertThat(run.exitCode()).isZero();
    String help = run.out().replaceAll("\\s+", " ");
    assertThat(help).contains("--keep-alive Requests may share connections (default).")
        .contains("Default: 1000.")
        .contains("cannot help (default).")
        .contains("--resets-ok The server tolerates an RST after a complete exchange (default).");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "nohost                       | destination must be host:port, but was nohost (no port)",
    "127.0.0.1:0                  | destination port must be 1 to 65535, but was 0",
    "127.0.0.1:65536              | destination port must be 1 to 65535, but was 65536",
    "127.0.0.1:http               | destination port must be a number 1 to 65535, but was \"http\"",
    ":8080                        | destination must name a host, but was :8080",
    "[::1                         | destination must be host:port or [IPv6]:port, but was [::1",
    "::1:8080                     | destination with an IPv6 address must be [address]:port, but was ::1:8080",
    "no-such-host.invalid:80      | destination host cannot be resolved: no-such-host.invalid",
    "127.0.0.1:80 --rate -5       | --rate must be 0 to 10000000, but was -5",
    "127.0.0.1:80 --rate many     | Invalid value for option '--rate': 'many' is not a double",
  })
  void badInputExitsTwoWithAOneLineReasonAndTheUsage(String args, String reason) {
    List<String> argv = new ArrayList<>(List.of("doctor"));
    argv.addAll(List.of(args.trim().split("\\s+")));

    Run run = LoadCliTest.cli(argv.toArray(String[]::new));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).isEqualTo(reason);
    assertThat(run.err()).contains("Usage: timewait-load doctor").doesNotContain("\tat ");
    assertThat(run.out()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "127.0.0.1:80 --bogus         | Unknown option: '--bogus'",
    "127.0.0.1:80 127.0.0.1:81    | Unmatched argument at index 2: '127.0.0.1:81'",
  })
  void unknownInputIsNamedAndPointsToHelpWithoutReprintingTheUsage(String args, String reason) {
    List<String> argv = new ArrayList<>(List.of("doctor"));
    argv.addAll(List.of(args.trim().split("\\s+")));

    Run run = LoadCliTest.cli(argv.toArray(String[]::new));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).isEqualTo(reason);
    assertThat(run.err()).doesNotContain("Usage:").doesNotContain("\tat ")
        .contains("Run 'timewait-load doctor --help' for the options.");
    assertThat(run.out()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "--keep-alive --no-keep-alive       | --keep-alive and --no-keep-alive contradict each other: give one of them",
    "--no-keep-alive --keep-alive       | --keep-alive and --no-keep-alive contradict each other: give one of them",
    "--timestamps-on --timestamps-off   | --timestamps-off and --timestamps-on contradict each other: give one of them",
    "--resets-ok --rate 5 --no-resets   | --resets-ok and --no-resets contradict each other: give one of them",
  })
  void contradictoryWorkloadFlagsAreRejectedInsteadOfTheLastOneWinning(String args, String reason) {
    List<String> argv = new ArrayList<>(List.of("doctor"));
    argv.addAll(List.of(args.trim().split("\\s+")));

    Run run = LoadCliTest.cli(argv.toArray(String[]::new));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().findFirst().orElse("")).isEqualTo(reason);
    assertThat(run.out()).isEmpty();
  }

  @Test
  void ipv6DestinationInBracketsIsAccepted() throws Exception {
    Run run = LoadCliTest.cli("doctor", "[::1]:8080", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(parse(run.out()).get("destination").asText()).isEqualTo("[::1]:8080");
  }

  // ---- off Linux, and fixtures: the report from given readings

  @Test
  void offLinuxEverySectionSaysUnsupportedAndTheJsonSaysSoToo() throws Exception {
    String reason = "unsupported on this OS: Windows 11";
    InetSocketAddress destination = new InetSocketAddress("127.0.0.1", 8080);
    DoctorReport report = DoctorReport.of(KernelSettings.unsupported(reason), KernelCounters.unsupported(reason),
        PortBudget.unsupported(destination, reason), Workload.builder().build());

    String text = report.toText();
    String[] sections = text.split("\n== ");
    assertThat(sections).hasSize(1 + DoctorReport.SECTIONS.size());
    for (int i = 1; i < sections.length; i++) {
      assertThat(sections[i].replaceAll("\\s+", " ")).as(sections[i]).contains("unsupported on this OS");
    }
    JsonNode json = parse(report.toJson());
    assertThat(json.fieldNames()).toIterable().containsExactlyElementsOf(JSON_FIELDS);
    for (String reading : List.of("settings", "counters", "budget")) {
      assertThat(json.get(reading).get("supported").asBoolean()).as(reading).isFalse();
      assertThat(json.get(reading).get("unsupportedReason").asText()).as(reading).isEqualTo(reason);
    }
    assertThat(json.get("settings").get("usablePorts").isNull()).isTrue();
    assertThat(json.get("budget").get("timeWait").isNull()).isTrue();
    assertThat(json.get("counters").get("values").get("sockstat.tw").isNull()).isTrue();
    assertThat(json.get("advice").get("assumesLinuxDefaults").asBoolean()).isTrue();
    assertThat(json.get("advice").get("strategy").asText()).isEqualTo("pooled");
  }

  @Test
  void loopbackOnlyReuseTowardsALoadBalancerWithTimestampsOffCannotHelp() throws Exception {
    KernelSettings settings = KernelSettings.read(proc("32768 60999", "", "2", "1", "60"));
    InetSocketAddress lb = new InetSocketAddress("10.0.0.7", 443);
    DoctorReport report = DoctorReport.of(settings, KernelCounters.unsupported("not read"),
        PortBudget.of(lb, settings, TcpTable.of(tcpTable(lb, 5))), Workload.builder()
            .keepAliveAllowed(false).newConnectionsPerSecond(2000).resetsAcceptable(true).build());

    String text = report.toText().replaceAll("\\s+", " ");

    assertThat(text).contains("tcp_tw_reuse=2 applies only to loopback, not to 10.0.0.7:443. Against a load"
        + " balancer with timestamps off even tcp_tw_reuse=1 cannot help: use reset close.");
    assertThat(text).contains("Your port range has 28232 usable ports: a client that closes first can open at"
        + " most 28232 / 60 s = 471 new connections/s to 10.0.0.7:443. Your workload wants 2000/s");
    assertThat(text).contains("5 sockets towards 10.0.0.7:443 are in TIME_WAIT now");
    assertThat(text).contains("Use reset close, in code CloseStrategy.reset().");
    assertThat(report.budget().timeWait()).isEqualTo(5);
  }

  @Test
  void reservedPortsShrinkTheBudgetAndTimestampsOffAreExplained() throws Exception {
    KernelSettings settings = KernelSettings.read(proc("40000 40099", "40010-40019,40050", "1", "0", "30"));

    DoctorReport report = DoctorReport.of(settings, KernelCounters.unsupported("not read"), null,
        Workload.builder().newConnectionsPerSecond(1).build());
    String text = report.toText().replaceAll("\\s+", " ");

    assertThat(text).contains("Your port range has 89 usable ports: a client that closes first can open at"
        + " most 89 / 60 s = 1.5 new connections/s to one destination ip:port.");
    assertThat(text).contains("tcp_timestamps=0 on this host, so tcp_tw_reuse can never apply here.");
    assertThat(text).contains("tcp_tw_reuse=1 is on, but it needs TCP timestamps on both ends, and this host"
        + " has them off");
    assertThat(text).contains("Leave net.ipv4.tcp_fin_timeout (30 s) alone for TIME_WAIT");
  }

  @Test
  void overflowingTimeWaitBucketsAnOldKernelsRecycleAndLowHeadroomAreCalledOut() throws Exception {
    Path root = proc("40000 40099", "", "0", "1", "60");
    Files.writeString(root.resolve("sys/net/ipv4/tcp_tw_recycle"), "0\n");
    Path net = Files.createDirectories(root.resolve("net"));
    Files.writeString(net.resolve("sockstat"), "TCP: inuse 3 orphan 0 tw 95 alloc 7 mem 75\n");
    Files.writeString(net.resolve("netstat"), "TcpExt: TW TWRecycled TCPTimeWaitOverflow\nTcpExt: 1000 0 42\n");
    KernelSettings settings = KernelSettings.read(root);
    InetSocketAddress lb = new InetSocketAddress("10.0.0.7", 443);

    DoctorReport report = DoctorReport.of(settings, KernelCounters.read(root),
        PortBudget.of(lb, settings, TcpTable.of(tcpTable(lb, 95))), Workload.builder().build());
    String text = report.toText().replaceAll("\\s+", " ");

    assertThat(text).contains("Only 5 of 100 ports are left towards 10.0.0.7:443");
    assertThat(text).contains("95 sockets towards 10.0.0.7:443 are in TIME_WAIT now (95.0% of the usable ports)");
    assertThat(text).contains("TcpExt.TCPTimeWaitOverflow = 42: the kernel destroyed closing sockets without"
        + " TIME_WAIT because tcp_max_tw_buckets (131072) was full");
    assertThat(text).contains("This kernel still has net.ipv4.tcp_tw_recycle (before Linux 4.12): keep it 0");
    assertThat(text).contains("tcp_tw_reuse=0: TIME_WAIT ports are never reused.");
    JsonNode json = parse(report.toJson());
    assertThat(json.get("counters").get("values").get("TcpExt.TCPTimeWaitOverflow").asLong()).isEqualTo(42);
    assertThat(json.get("budget").get("headroom").asInt()).isEqualTo(5);
    assertThat(json.get("changes").findValuesAsText("topic")).contains("port_budget", "time_wait",
        "tcp_tw_reuse", "tcp_fin_timeout", "tcp_tw_recycle", "tcp_max_tw_buckets", "strategy");
  }

  /** A /proc fixture with the given settings; tcp_tw_recycle absent, as since Linux 4.12. */
  private Path proc(String range, String reserved, String twReuse, String timestamps, String finTimeout)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("proc/sys/net/ipv4"));
    Files.writeString(dir.resolve("ip_local_port_range"), range + "\n");
    Files.writeString(dir.resolve("ip_local_reserved_ports"), reserved + "\n");
    Files.writeString(dir.resolve("tcp_tw_reuse"), twReuse + "\n");
    Files.writeString(dir.resolve("tcp_timestamps"), timestamps + "\n");
    Files.writeString(dir.resolve("tcp_fin_timeout"), finTimeout + "\n");
    Files.writeString(dir.resolve("tcp_max_tw_buckets"), "131072\n");
    return tmp.resolve("proc");
  }

  /** A /proc/net/tcp fixture with {@code timeWait} client sockets in TIME_WAIT towards {@code to}. */
  private Path tcpTable(InetSocketAddress to, int timeWait) throws Exception {
    byte[] a = to.getAddress().getAddress();
    String remote = String.format("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], to.getPort());
    StringBuilder sb = new StringBuilder("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when"
        + " retrnsmt   uid  timeout inode\n");
    for (int i = 0; i < timeWait; i++) {
      sb.append(String.format("   %d: 0100000A:%04X %s 06 00000000:00000000 03:00001000 00000000     0        0 0"
          + " 3 0000000000000000\n", i, 40000 + i, remote));
    }
    Path file = tmp.resolve("tcp");
    Files.writeString(file, sb.toString());
    return file;
  }
}
