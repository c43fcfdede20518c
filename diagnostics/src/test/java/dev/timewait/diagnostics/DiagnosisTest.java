package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DiagnosisTest {
  private static final Path TUNED = ProcFixtures.root("proc-tuned");
  private static final Workload NO_KEEP_ALIVE_RESETS_OK = Workload.builder()
      .keepAliveAllowed(false).newConnectionsPerSecond(2000).resetsAcceptable(true).build();

  @Test
  void theChangesAreTypedByTopicInOrderOfImportanceAndEndWithTheStrategy() {
    Diagnosis d = Diagnosis.of(KernelSettings.read(TUNED), KernelCounters.read(TUNED),
        NO_KEEP_ALIVE_RESETS_OK);

    assertThat(d.changes()).extracting(Change::topic).containsExactly(
        Change.Topic.PORT_BUDGET, Change.Topic.TCP_TW_REUSE, Change.Topic.TCP_TIMESTAMPS,
        Change.Topic.TCP_FIN_TIMEOUT, Change.Topic.TCP_TW_RECYCLE, Change.Topic.STRATEGY);
    assertThat(d.advice().strategy()).isEqualTo(CloseStrategy.reset());
    assertThat(d.changes().get(0).text()).startsWith("Your port range has 89 usable ports: a client"
        + " that closes first can open at most 89 / 60 s = 1.5 new connections/s to one destination"
        + " ip:port. Your workload wants 2000/s");
    assertThat(d.changes().get(1).text()).isEqualTo("tcp_tw_reuse=0: TIME_WAIT ports are never"
        + " reused. Setting it to 1 helps only when both ends use TCP timestamps, which a load"
        + " balancer with timestamps off does not: use reset close instead.");
    assertThat(d.changes().get(3).text()).startsWith("Leave net.ipv4.tcp_fin_timeout (30 s) alone");
    assertThat(d.changes().get(5).text()).startsWith("Use reset close, in code CloseStrategy.reset().");
    assertThat(Change.Topic.TCP_TW_REUSE.key()).isEqualTo("tcp_tw_reuse");
  }

  @Test
  void anIpv6DestinationIsNamedInBracketsAndItsTimeWaitIsCalledOut() throws Exception {
    KernelSettings settings = KernelSettings.read(ProcFixtures.root("proc-default"));
    InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 8443);
    PortBudget budget = PortBudget.of(v6, settings, ProcFixtures.table("proc-default"));

    Diagnosis d = Diagnosis.of(settings, KernelCounters.unsupported("not read"), budget,
        Workload.builder().build());

    assertThat(d.budget()).contains(budget);
    assertThat(d.changes()).filteredOn(c -> c.topic() == Change.Topic.TIME_WAIT).singleElement()
        .extracting(Change::text).asString()
        .startsWith("3 sockets towards [::1]:8443 are in TIME_WAIT now");
  }

  @Test
  void aLoopbackDestinationThatTcpTwReuseCoversIsNotToldConnectWillFail() {
    // Linux's defaults (tcp_tw_reuse=2, timestamps on) and a test against loopback, the usual
    // CI target, at 2000 new connections/s: before, the port budget said connect() fails after
    // about 14 s, and the tcp_tw_reuse change beside it said nothing needs changing.
    KernelSettings settings = KernelSettings.read(ProcFixtures.root("proc-default"));
    Workload loopback = Workload.builder().keepAliveAllowed(false).newConnectionsPerSecond(2000)
        .loopbackDestination(true).peerMayDisableTimestamps(false).build();

    Diagnosis d = Diagnosis.of(settings, KernelCounters.unsupported("not read"), loopback);

    assertThat(d.advice().twReuseHelps()).isTrue();
    assertThat(d.changes().get(0).text())
        .doesNotContain("Cannot assign requested address")
        .contains("Your workload wants 2000/s, more than that, but tcp_tw_reuse covers this"
            + " destination: connect() takes over TIME_WAIT ports older than 1 s instead of failing");
    assertThat(d.changes()).filteredOn(c -> c.topic() == Change.Topic.TCP_TW_REUSE).singleElement()
        .extracting(Change::text).asString().contains("Nothing to change");

    // Beyond what reuse sustains (28,232 ports, each reusable after 1 s): connect() fails again.
    Workload beyond = Workload.builder().keepAliveAllowed(false).newConnectionsPerSecond(30_000)
        .loopbackDestination(true).peerMayDisableTimestamps(false).build();
    assertThat(Diagnosis.of(settings, KernelCounters.unsupported("not read"), beyond).changes().get(0).text())
        .contains("Cannot assign requested address");
  }

  @Test
  void aBudgetTowardsLoopbackIsAdvisedAsLoopbackWhateverTheWorkloadSays() throws Exception {
    // The library's caller gives the budget (towards [::1]:8443) and a workload built without
    // loopbackDestination: before, the diagnosis predicted "Cannot assign requested address"
    // after about 14 s and said tcp_tw_reuse=2 does not apply to [::1]:8443, beside a budget
    // whose own description says reuse may take ports over (the doctor CLI set the flag itself).
    KernelSettings settings = KernelSettings.read(ProcFixtures.root("proc-default"));
    InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 8443);
    PortBudget budget = PortBudget.of(v6, settings, ProcFixtures.table("proc-default"));
    Workload workload = Workload.builder().keepAliveAllowed(false).newConnectionsPerSecond(2000)
        .peerMayDisableTimestamps(false).build();

    Diagnosis d = Diagnosis.of(settings, KernelCounters.unsupported("not read"), budget, workload);

    assertThat(d.workload().loopbackDestination()).isTrue();
    assertThat(d.advice().twReuseHelps()).isTrue();
    assertThat(d.changes()).extracting(Change::text)
        .noneMatch(t -> t.contains("Cannot assign requested address"))
        .noneMatch(t -> t.contains("applies only to loopback"));
  }

  @Test
  void offLinuxTheOnlyChangeSaysTheAdviceAssumesLinuxDefaults() {
    String reason = "unsupported on this OS: Mac OS X";

    Diagnosis d = Diagnosis.of(KernelSettings.unsupported(reason),
        KernelCounters.unsupported(reason), Workload.builder().build());

    assertThat(d.changes()).singleElement().satisfies(c -> {
      assertThat(c.topic()).isEqualTo(Change.Topic.KERNEL);
      assertThat(c.text()).startsWith(reason + ": no kernel settings to read or change here.")
          .endsWith("on Linux, use " + d.advice().inWords() + ".");
    });
    assertThat(d.budget()).isEmpty();
  }

  @Test
  void theAdvisedStrategyIsNamedInWordsAndInCode() {
    KernelSettings settings = KernelSettings.read(TUNED);

    StrategyAdvice reset = StrategyAdvisor.advise(settings, NO_KEEP_ALIVE_RESETS_OK);
    StrategyAdvice pooled = StrategyAdvisor.advise(settings, Workload.builder()
        .keepAliveAllowed(true).resetsAcceptable(false).build());
    StrategyAdvice serverClose = StrategyAdvisor.advise(settings, Workload.builder()
        .keepAliveAllowed(false).resetsAcceptable(false).build());

    assertThat(reset.inWords()).isEqualTo("reset close");
    assertThat(reset.inCode()).isEqualTo("CloseStrategy.reset()");
    assertThat(pooled.inWords()).isEqualTo("pooled keep-alive retired by server close");
    assertThat(pooled.inCode())
        .isEqualTo("PooledKeepAlive.builder().retirement(Retirement.SERVER_CLOSE).build()");
    assertThat(serverClose.inWords()).isEqualTo("server close");
    assertThat(serverClose.inCode()).isEqualTo("CloseStrategy.serverClose()");
  }

  @Test
  void nullReadingsAreRejectedByName() {
    KernelSettings s = KernelSettings.unsupported("x");
    KernelCounters c = KernelCounters.unsupported("x");
    Workload w = Workload.builder().build();

    assertThatThrownBy(() -> Diagnosis.of(null, c, w)).hasMessage("settings cannot be null");
    assertThatThrownBy(() -> Diagnosis.of(s, null, w)).hasMessage("counters cannot be null");
    assertThatThrownBy(() -> Diagnosis.of(s, c, null)).hasMessage("workload cannot be null");
    assertThatThrownBy(() -> Diagnosis.of(s, c, null, w)).hasMessage("budget cannot be null");
  }
}
