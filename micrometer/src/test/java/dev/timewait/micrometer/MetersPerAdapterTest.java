package dev.timewait.micrometer;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.ContractClient;
import dev.timewait.testing.KernelTcp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The meters of every adapter and strategy against the client's accounting and the kernel's
 * table: one test body, run over HttpClient 5 classic and async, OkHttp and Reactor Netty
 * (the kit's {@link ContractClient}) with server close, reset and pooled keep-alive, each against
 * a fresh WireMock on 127.0.0.1. A control (a naive client that closes first) shows that the
 * TIME_WAIT gauge, zero for every strategy, reads what the kernel holds when there is some.
 */
class MetersPerAdapterTest {
  private static final int REQUESTS = 20;
  private static final int POOL = 4;
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final Set<String> REASONS = Arrays.stream(CloseEvent.Reason.values())
      .map(r -> r.name().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());

  private WireMockServer server;
  private int port;
  private String destination;

  /** The strategies, by name (JUnit's display names). */
  enum Strategy {
    SERVER_CLOSE, RESET, POOLED;

    CloseStrategy make() {
      return switch (this) {
        case SERVER_CLOSE -> CloseStrategy.serverClose();
        case RESET -> CloseStrategy.reset();
        case POOLED -> PooledKeepAlive.builder().maxTotal(POOL).maxPerRoute(POOL).build();
      };
    }
  }

  static Stream<Arguments> everyAdapterAndStrategy() {
    return Arrays.stream(AdapterClient.values())
        .flatMap(a -> Arrays.stream(Strategy.values()).map(s -> Arguments.of(a, s)));
  }

  @BeforeEach
  void startServer() throws IOException {
    KernelTcp.assumeReadable();
    server = KernelTcp.startOnFreshPorts(() -> {
      WireMockServer s = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort()
          .containerThreads(16));
      s.start();
      return s;
    }, WireMockServer::stop, WireMockServer::port);
    server.stubFor(get(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200).withBody("hello")));
    port = server.port();
    destination = "127.0.0.1:" + port;
  }

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyAdapterAndStrategy")
  void metersMatchTheAccountingAndTheKernel(AdapterClient adapter, Strategy strategy)
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    // The accounting's own events, beside the meters: which closes waited for a FIN, and why
    // each closed. Those are what the meters must add up to.
    Map<String, LongAdder> reasons = new ConcurrentHashMap<>();
    LongAdder waitedForFin = new LongAdder();
    accounting.addListener(event -> {
      reasons.computeIfAbsent(event.reason().name().toLowerCase(Locale.ROOT), r -> new LongAdder())
          .increment();
      if (event.finWaitNanos() > 0) {
        waitedForFin.increment();
      }
    });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", accounting)
        .destination("127.0.0.1", port) // gauges from the start, before the first close names it
        .kernelGauges()
        .build();
    metrics.bindTo(registry);

    URI uri = URI.create("http://127.0.0.1:" + port + "/hello");
    try (AdapterClient.Client client = adapter.open(strategy.make(), accounting)) {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(client.get(uri)).isEqualTo(200);
      }
    } // closing the client closes its pooled connections too
    CloseStats stats = awaitAllClosed(accounting);
    KernelTcp.awaitClientSettled(port, SETTLE);

    // Opened and closed, by mode: the accounting's counts.
    assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "orders").functionCounter().count())
        .isEqualTo(stats.connectionsOpened());
    if (strategy == Strategy.POOLED) {
      assertThat(stats.connectionsOpened()).isBetween(1L, (long) POOL);
    } else {
      assertThat(stats.connectionsOpened()).isEqualTo(REQUESTS);
    }
    assertThat(closed(registry, null)).as(stats.toString()).isEqualTo(stats.closed());
    assertThat(closed(registry, "after_peer_fin")).isEqualTo(stats.closedAfterPeerFin());
    assertThat(closed(registry, "reset")).isEqualTo(stats.closedByReset());
    assertThat(closed(registry, "locally_first")).isEqualTo(stats.closedLocallyFirst()).isZero();
    if (strategy == Strategy.SERVER_CLOSE) {
      assertThat(stats.closedAfterPeerFin()).as(stats.toString()).isEqualTo(REQUESTS);
    } else if (strategy == Strategy.RESET) {
      assertThat(stats.closedByReset()).isEqualTo(REQUESTS);
    }

    // Reasons: each reason's counter holds the closes the accounting told with that reason, and
    // they add up to the closes. Server close and reset end every connection by the strategy;
    // the pooled connections here (20 requests, far below the cap and the lifetime) end when the
    // client shuts down.
    assertThat(registry.find(TimeWaitMetrics.CLOSED).counters())
        .allSatisfy(c -> assertThat(c.getId().getTag("reason")).isIn(REASONS));
    Map<String, Double> byReason = registry.find(TimeWaitMetrics.CLOSED).counters().stream()
        .collect(Collectors.groupingBy(c -> c.getId().getTag("reason"),
            Collectors.summingDouble(Counter::count)));
    assertThat(byReason.values().stream().mapToDouble(Double::doubleValue).sum())
        .isEqualTo(stats.closed());
    assertThat(byReason).allSatisfy((reason, count) ->
        assertThat(count).as(reason).isEqualTo(reasons.get(reason).doubleValue()));
    assertThat(byReason).containsOnlyKeys(reasons.keySet());
    assertThat(byReason).as(stats.toString())
        .containsOnlyKeys(strategy == Strategy.POOLED ? "shutdown" : "strategy");

    // Destinations: every adapter's close events carry the server's.
    assertThat(registry.find(TimeWaitMetrics.CLOSED).counters())
        .allSatisfy(c -> assertThat(c.getId().getTag("destination")).isEqualTo(destination));

    // FIN waits: the timer counts the closes that waited for the server's FIN (a close that
    // found the FIN already read waits for nothing). Only a server close waits.
    long finWaits = registry.find(TimeWaitMetrics.FIN_WAIT).timers().stream()
        .mapToLong(Timer::count).sum();
    assertThat(finWaits).isEqualTo(waitedForFin.sum())
        .isLessThanOrEqualTo(stats.closedAfterPeerFin() + stats.finWaitTimeouts()
            + stats.finWaitAborts());
    if (strategy != Strategy.SERVER_CLOSE) {
      assertThat(finWaits).isZero();
    }

    // Requests per connection: one summary sample per close, adding up to the requests sent.
    List<DistributionSummary> summaries = registry.find(TimeWaitMetrics.REQUESTS).summaries().stream()
        .collect(Collectors.toList());
    assertThat(summaries.stream().mapToLong(DistributionSummary::count).sum())
        .isEqualTo(stats.closed());
    assertThat(summaries.stream().mapToDouble(DistributionSummary::totalAmount).sum())
        .isEqualTo(REQUESTS);

    // The kernel gauges: no client TIME_WAIT towards the server, as the kernel's table says, and
    // ports to spare. One scan for both gauges.
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges()).hasSize(1);
    double timeWait = registry.get(TimeWaitMetrics.TIME_WAIT)
        .tags("client", "orders", "destination", destination).gauge().value();
    double headroom = registry.get(TimeWaitMetrics.PORT_HEADROOM)
        .tags("client", "orders", "destination", destination).gauge().value();
    assertThat(timeWait).as(KernelTcp.describe(port)).isEqualTo(KernelTcp.clientTimeWait(port))
        .isZero();
    assertThat(headroom).isPositive();
    assertThat(metrics.kernelScans()).isEqualTo(1);
  }

  @Test
  void theTimeWaitGaugeReadsTheKernelsCountWhenTheClientClosesFirst() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    // No destination named: the first close event brings it, and its gauges with it.
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("naive", accounting).kernelGauges().build();
    metrics.bindTo(registry);

    URI uri = URI.create("http://127.0.0.1:" + port + "/hello");
    try (AdapterClient.Client client = AdapterClient.naiveOkHttp(accounting)) {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(client.get(uri)).isEqualTo(200);
      }
    }
    CloseStats stats = awaitAllClosed(accounting);
    KernelTcp.awaitClientSettled(port, SETTLE);

    assertThat(closed(registry, "locally_first")).isEqualTo(stats.closedLocallyFirst())
        .isEqualTo(REQUESTS);
    int kernel = KernelTcp.clientTimeWait(port);
    assertThat(kernel).as("the control: the client kept its TIME_WAIT").isEqualTo(REQUESTS);
    double gauge = registry.get(TimeWaitMetrics.TIME_WAIT).tag("destination", destination)
        .gauge().value();
    // The gauge scans /proc/net/tcp{,6}, which is not a snapshot (TcpTable's javadoc): while
    // other sockets come and go a scan may skip or repeat a few entries. KernelTcp asks netlink.
    assertThat(gauge).as(KernelTcp.describe(port)).isCloseTo(kernel, within(2.0));
    double headroom = registry.get(TimeWaitMetrics.PORT_HEADROOM).tag("destination", destination)
        .gauge().value();
    assertThat(headroom).isPositive();
  }

  private static double closed(SimpleMeterRegistry registry, String mode) {
    return registry.find(TimeWaitMetrics.CLOSED).counters().stream()
        .filter(c -> mode == null || mode.equals(c.getId().getTag("mode")))
        .mapToDouble(Counter::count).sum();
  }

  /** Closes may finish on the clients' own threads after close() returned: bounded wait. */
  private static CloseStats awaitAllClosed(CloseAccounting accounting) throws InterruptedException {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    CloseStats stats = accounting.snapshot();
    while (stats.open() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
      stats = accounting.snapshot();
    }
    assertThat(stats.open()).as(stats.toString()).isZero();
    return stats;
  }
}
