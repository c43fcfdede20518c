package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StrategyAdvisorTest {
  private static final KernelSettings DEFAULTS = KernelSettings.read(ProcFixtures.root("proc-default"));
  private static final KernelSettings TUNED = KernelSettings.read(ProcFixtures.root("proc-tuned"));

  private static KernelSettings withReuse(KernelSettings s, TwReuse reuse) {
    return s.toBuilder().twReuse(reuse).build();
  }

  private static Workload.Builder remote() {
    return Workload.builder().loopbackDestination(false).peerMayDisableTimestamps(true);
  }

  @ParameterizedTest(name = "keepAlive={0} resets={1} rate={2}/s => {3} {4}")
  @CsvSource({
      // keepAlive, resetsOk, rate, kind,         retirement,   rule
      "true,  true,  1000, pooled,       RESET,        'keep-alive, resets acceptable'",
      "true,  true,  10,   pooled,       RESET,        'keep-alive, resets acceptable'",
      "true,  false, 1000, pooled,       SERVER_CLOSE, 'keep-alive, no resets'",
      "false, false, 1000, server-close, SERVER_CLOSE, 'no keep-alive, no resets'",
      "false, false, 10,   server-close, SERVER_CLOSE, 'no keep-alive, no resets'",
      "false, true,  100,  server-close, SERVER_CLOSE, 'no keep-alive, resets acceptable, within budget'",
      "false, true,  235,  server-close, SERVER_CLOSE, 'no keep-alive, resets acceptable, within budget'",
      "false, true,  236,  reset,        RESET,        'no keep-alive, resets acceptable, over budget'",
      "false, true,  5000, reset,        RESET,        'no keep-alive, resets acceptable, over budget'",
  })
  void theTableChoosesTheStrategyForEachWorkload(boolean keepAlive, boolean resetsOk, double rate,
      String kind, Retirement retirement, String rule) {
    StrategyAdvice advice = StrategyAdvisor.advise(DEFAULTS, remote()
        .keepAliveAllowed(keepAlive).resetsAcceptable(resetsOk).newConnectionsPerSecond(rate).build());

    assertThat(advice.kind()).isEqualTo(CloseStrategy.Kind.forId(kind));
    assertThat(advice.strategy().name()).isEqualTo(kind);
    assertThat(advice.strategy().retirement()).isEqualTo(retirement);
    assertThat(advice.rule()).isEqualTo(rule);
    assertThat(advice.reasons().get(1)).isEqualTo(
        StrategyAdvisor.RULES.stream().filter(r -> r.name().equals(rule)).findFirst().orElseThrow().reason());
    assertThat(advice.plainCloseLimitPerSecond()).isEqualTo(28232 / 60.0);
  }

  @Test
  void theTableCoversEveryWorkload() {
    for (boolean keepAlive : new boolean[] {true, false}) {
      for (boolean resets : new boolean[] {true, false}) {
        for (boolean peerTs : new boolean[] {true, false}) {
          for (boolean loopback : new boolean[] {true, false}) {
            for (double rate : new double[] {0, 1, 470, 1e6}) {
              Workload w = new Workload(keepAlive, rate, peerTs, resets, loopback);
              for (KernelSettings s : List.of(DEFAULTS, TUNED, KernelSettings.unsupported("x"))) {
                assertThat(StrategyAdvisor.advise(s, w).reasons()).hasSizeGreaterThanOrEqualTo(3);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void behindALoadBalancerWithTimestampsOffTcpTwReuseIsUselessAndSaysSo() {
    KernelSettings reuseForAll = withReuse(DEFAULTS, TwReuse.ALL);
    Workload loadBalancer = Workload.builder()
        .keepAliveAllowed(false)
        .newConnectionsPerSecond(2000)
        .peerMayDisableTimestamps(true)
        .resetsAcceptable(true)
        .build();

    StrategyAdvice advice = StrategyAdvisor.advise(reuseForAll, loadBalancer);

    assertThat(advice.twReuseHelps()).isFalse();
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r)
        .startsWith("tcp_tw_reuse is useless here: the peer may have TCP timestamps off")
        .contains("only when both ends use timestamps"));
    // without reuse 2000/s is far over 470/s: reset, no TIME_WAIT anywhere
    assertThat(advice.strategy()).isEqualTo(CloseStrategy.reset());
    assertThat(advice.reasons().get(0)).isEqualTo("A client that closes first can open at most"
        + " 28232 usable ports / 60 s = 471 new connections/s to one destination; this workload"
        + " would open 2000/s (425% of it).");
  }

  @Test
  void onLoopbackWithTimestampsOnBothEndsTcpTwReuseHelpsAndWidensTheBudget() {
    Workload loopback = Workload.builder().keepAliveAllowed(false).newConnectionsPerSecond(2000)
        .peerMayDisableTimestamps(false).loopbackDestination(true).resetsAcceptable(true).build();

    StrategyAdvice advice = StrategyAdvisor.advise(DEFAULTS, loopback);

    assertThat(advice.twReuseHelps()).isTrue();
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r).startsWith("tcp_tw_reuse=2 applies"));
    assertThat(advice.rule()).isEqualTo("no keep-alive, resets acceptable, within budget");
    assertThat(advice.strategy()).isEqualTo(CloseStrategy.serverClose());
  }

  @Test
  void tcpTwReuseTwoDoesNotHelpARemoteDestination() {
    StrategyAdvice advice = StrategyAdvisor.advise(DEFAULTS,
        remote().peerMayDisableTimestamps(false).keepAliveAllowed(false).build());

    assertThat(advice.twReuseHelps()).isFalse();
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r)
        .startsWith("tcp_tw_reuse=2 reuses TIME_WAIT ports only for loopback connections"));
  }

  @Test
  void reuseOffAndTimestampsOffAreNamed() {
    Workload w = Workload.builder().peerMayDisableTimestamps(false).loopbackDestination(true).build();

    assertThat(StrategyAdvisor.advise(TUNED, w).reasons())
        .anySatisfy(r -> assertThat(r).startsWith("tcp_tw_reuse=0: the kernel never reuses"));
    assertThat(StrategyAdvisor.advise(withReuse(TUNED, TwReuse.ALL), w).reasons())
        .anySatisfy(r -> assertThat(r).startsWith("tcp_tw_reuse is useless here: tcp_timestamps=0"));
    // the tuned namespace has 89 usable ports: 1.48 connections/s
    assertThat(StrategyAdvisor.advise(TUNED, w).plainCloseLimitPerSecond()).isEqualTo(89 / 60.0);
  }

  @Test
  void serverCloseAboveTheTimeWaitBucketsWarnsOfOverflowOnTheServer() {
    StrategyAdvice advice = StrategyAdvisor.advise(DEFAULTS, remote()
        .keepAliveAllowed(false).resetsAcceptable(false).newConnectionsPerSecond(5000).build());

    assertThat(advice.kind()).isEqualTo(CloseStrategy.Kind.SERVER_CLOSE);
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r)
        .contains("the server holds about 300000 sockets in TIME_WAIT, more than tcp_max_tw_buckets (131072"));
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r).contains("must honour Connection: close"));
  }

  @Test
  void pooledAdviceSaysHowFewConnectionsOpen() {
    StrategyAdvice advice = StrategyAdvisor.advise(DEFAULTS,
        remote().newConnectionsPerSecond(10_000).build());

    assertThat(advice.strategy()).isEqualTo(PooledKeepAlive.builder().retirement(Retirement.RESET).build());
    assertThat(advice.reasons()).anySatisfy(r -> assertThat(r)
        .contains("10000 requests/s open about 1 new connections/s"));
    assertThat(advice.explanation()).startsWith("Recommended: pooled (retirement RESET)\n- A client");
  }

  @Test
  void unknownSettingsAssumeLinuxDefaultsAndSaySo() {
    StrategyAdvice advice = StrategyAdvisor.advise(
        KernelSettings.read(Path.of("/nonexistent")), remote().keepAliveAllowed(false).build());

    assertThat(advice.reasons().get(0))
        .startsWith("The kernel settings are unknown (unsupported on this OS")
        .contains("assumes Linux's defaults: ports 32768-60999");
    assertThat(advice.reasons().get(1)).startsWith("A client that closes first can open at most"
        + " 28232 usable ports / 60 s");
    assertThat(advice.plainCloseLimitPerSecond()).isEqualTo(28232 / 60.0);
    assertThat(advice.kind()).isEqualTo(CloseStrategy.Kind.RESET);
  }

  @Test
  void aKernelWithTcpTwRecycleGetsAWordOfWarning() {
    KernelSettings old = KernelSettings.builder().localPortRange(DEFAULTS.localPortRange())
        .twReuse(TwReuse.OFF).timestamps(TcpTimestamps.ON).finTimeoutSeconds(60)
        .maxTwBuckets(131072).twRecycleExists(true).build();

    assertThat(StrategyAdvisor.advise(old, Workload.builder().build()).reasons())
        .last().asString().contains("still has tcp_tw_recycle");
  }

  @Test
  void invalidWorkloadsAndArgumentsAreRejectedWithTheValue() {
    assertThatThrownBy(() -> Workload.builder().newConnectionsPerSecond(-3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("newConnectionsPerSecond must be between 0.0 and 1.0E7, but was -3.0");
    assertThatThrownBy(() -> Workload.builder().newConnectionsPerSecond(Double.NaN).build())
        .hasMessage("newConnectionsPerSecond must be between 0.0 and 1.0E7, but was NaN");
    assertThatThrownBy(() -> StrategyAdvisor.advise(null, Workload.builder().build()))
        .isInstanceOf(NullPointerException.class).hasMessage("settings cannot be null");
    assertThatThrownBy(() -> StrategyAdvisor.advise(DEFAULTS, null))
        .isInstanceOf(NullPointerException.class).hasMessage("workload cannot be null");
  }

  @Test
  void workloadDefaultsAreTheNamedConstants() {
    Workload w = Workload.builder().build();
    assertThat(w).isEqualTo(new Workload(Workload.DEFAULT_KEEP_ALIVE_ALLOWED,
        Workload.DEFAULT_NEW_CONNECTIONS_PER_SECOND, Workload.DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS,
        Workload.DEFAULT_RESETS_ACCEPTABLE, Workload.DEFAULT_LOOPBACK_DESTINATION));
  }
}
