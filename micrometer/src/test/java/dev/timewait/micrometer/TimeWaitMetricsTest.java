package dev.timewait.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.testing.KernelTcp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TimeWaitMetricsTest {
  private static final int REQUESTS = 20;
  private HttpServer server;
  private HttpServer second;

  @BeforeEach
  void startServers() throws IOException {
    server = start();
    second = start();
  }

  @AfterEach
  void stopServers() {
    server.stop(0);
    second.stop(0);
  }

  /**
   * A started server on a fresh port: the tests assert no client TIME_WAIT towards it, and an
   * earlier test's client may have left some towards a port number that bind(0) hands out again.
   */
  private static HttpServer start() throws IOException {
    return KernelTcp.startOnFreshPorts(TimeWaitMetricsTest::startOnAnyPort, s -> s.stop(0),
        s -> s.getAddress().getPort());
  }

  private static HttpServer startOnAnyPort() throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    s.createContext("/", exchange -> {
      byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    s.start();
    return s;
  }

  @Test
  void serverCloseThroughOkHttpMetersMatchTheAccountingAndTheKernel() throws Exception {
    KernelTcp.assumeReadable();
    KernelCounters before = KernelCounters.read();
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.serverClose());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.of("orders", accounting).bindTo(registry);
    int port = server.getAddress().getPort();
    try {
      for (int i = 0; i < REQUESTS; i++) {
        get(client, port);
      }
      CloseStats stats = awaitClosed(accounting, REQUESTS);
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "orders")
          .functionCounter().count()).isEqualTo(stats.connectionsOpened()).isEqualTo(REQUESTS);
      assertThat(closedCount(registry, null)).isEqualTo(stats.closed());
      assertThat(closedCount(registry, "after_peer_fin")).isEqualTo(stats.closedAfterPeerFin());
      assertThat(closedCount(registry, "reset")).isEqualTo(stats.closedByReset());
      assertThat(registry.get(TimeWaitMetrics.CLOSED).tag("reason", "strategy").counters())
          .allSatisfy(c -> assertThat(c.getId().getTag("destination"))
              .matches("(localhost|127\\.0\\.0\\.1):" + port));
      // Every close that waited for the server's FIN is timed.
      assertThat(registry.get(TimeWaitMetrics.FIN_WAIT).timer().count())
          .isEqualTo(stats.closedAfterPeerFin());
      KernelTcp.awaitClientSettled(port, Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(port)).as(KernelTcp.describe(port)).isZero();
      int closedAfterFin = (int) stats.closedAfterPeerFin();
      assertThat(KernelTcp.serverTimeWait(port))
          .isBetween(closedAfterFin - KernelTcp.strayResetsSince(before), closedAfterFin);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
  }

  @Test
  void resetThroughOkHttpCountsEveryCloseAsResetByTheStrategy() throws Exception {
    KernelTcp.assumeReadable();
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.of("orders", accounting).bindTo(registry);
    int port = server.getAddress().getPort();
    try {
      for (int i = 0; i < REQUESTS; i++) {
        get(client, port);
      }
      CloseStats stats = awaitClosed(accounting, REQUESTS);
      assertThat(closedCount(registry, "reset")).isEqualTo(stats.closedByReset())
          .isEqualTo(REQUESTS);
      assertThat(registry.find(TimeWaitMetrics.FIN_WAIT).timer()).isNull();
      assertThat(KernelTcp.clientTimeWait(port)).as(KernelTcp.describe(port)).isZero();
      assertThat(KernelTcp.serverTimeWait(port)).isZero();
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
  }

  @Test
  void destinationsBeyondTheCapAreTaggedOther() throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.of("orders", accounting).maxDestinations(1).bindTo(registry);
    try {
      get(client, server.getAddress().getPort());
      awaitClosed(accounting, 1);
      get(client, second.getAddress().getPort());
      awaitClosed(accounting, 2);
      get(client, server.getAddress().getPort());
      awaitClosed(accounting, 3);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(registry.get(TimeWaitMetrics.CLOSED).counters())
        .extracting(c -> c.getId().getTag("destination") + "=" + (long) c.count())
        .containsExactlyInAnyOrder(
            "localhost:" + server.getAddress().getPort() + "=2", "other=1");
  }

  @Test
  void onlyDestinationsWithinTheCapGetKernelGauges() throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.builder("orders", accounting).maxDestinations(1).kernelGauges().build()
        .bindTo(registry);
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges()).isEmpty();
    try {
      get(client, server.getAddress().getPort());
      awaitClosed(accounting, 1);
      get(client, second.getAddress().getPort());
      awaitClosed(accounting, 2);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    String first = "localhost:" + server.getAddress().getPort();
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges())
        .extracting(g -> g.getId().getTag("destination")).containsExactly(first);
    assertThat(registry.find(TimeWaitMetrics.PORT_HEADROOM).gauges())
        .extracting(g -> g.getId().getTag("destination")).containsExactly(first);
  }

  @Test
  void ofStillBindsTheCloseMetersWithoutKernelGauges() throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.of("orders", accounting).bindTo(registry);
    try {
      get(client, server.getAddress().getPort());
      awaitClosed(accounting, 1);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(closedCount(registry, null)).isEqualTo(1);
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges()).isEmpty();
  }

  @Test
  void bindsAndUnbindsRacingOnSeveralThreadsLeaveTheCloseListenerAddedOnce() throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    TimeWaitMetrics metrics = TimeWaitMetrics.of("orders", accounting);
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        runs.add(threads.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            metrics.bindTo(new SimpleMeterRegistry());
            metrics.unbind();
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> run : runs) {
        run.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      metrics.bindTo(registry);
      get(client, server.getAddress().getPort());
      awaitClosed(accounting, 1);
      assertThat(closedCount(registry, null)).as("the close, counted once").isEqualTo(1);
    } finally {
      threads.shutdownNow();
      TimeWaitOkHttp.shutdown(client);
    }
  }

  @Test
  void aFirstBindWhoseGaugeFailsToRegisterStillLeavesLaterBindsMeteringCloses() throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    int port = server.getAddress().getPort();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", accounting)
        .destination("localhost", port).kernelGauges().build();
    SimpleMeterRegistry refusing = new SimpleMeterRegistry();
    refusing.config().meterFilter(new io.micrometer.core.instrument.config.MeterFilter() {
      @Override
      public io.micrometer.core.instrument.Meter.Id map(io.micrometer.core.instrument.Meter.Id id) {
        if (id.getName().equals(TimeWaitMetrics.TIME_WAIT)) {
          throw new IllegalStateException("a meter of that name exists with other tags");
        }
        return id;
      }
    });
    assertThatThrownBy(() -> metrics.bindTo(refusing)).isInstanceOf(IllegalStateException.class);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    metrics.bindTo(registry);
    int secondPort = second.getAddress().getPort();
    try {
      get(client, port);
      awaitClosed(accounting, 1);
      // A destination not named ahead: its gauges register at its first close, and the refusing
      // registry throws there. Before, that ended the listener: the close was metered nowhere,
      // and the healthy registry never got the destination's gauges.
      get(client, secondPort);
      awaitClosed(accounting, 2);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(closedCount(registry, null)).isEqualTo(2);
    assertThat(registry.find(TimeWaitMetrics.CLOSED).tag("destination", "localhost:" + secondPort).counter())
        .isNotNull();
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).tag("destination", "localhost:" + secondPort).gauge())
        .isNotNull();
  }

  @Test
  void aRegistryBoundTwiceCountsEachCloseOnceAndCloseRemovesOnlyThisClientsMeters() throws Exception {
    // A Spring bean that Boot binds, and a bindTo of the user's (the README's snippet without
    // Boot): each close counted twice before. A client per tenant or per test: its meters, and
    // the kernel sampler its gauges hold, stayed in a long-lived registry.
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    int port = server.getAddress().getPort();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", accounting)
        .destination("localhost", port).kernelGauges().build();
    TimeWaitMetrics other = TimeWaitMetrics.of("payments", new CloseAccounting());
    try {
      metrics.bindTo(registry);
      metrics.bindTo(registry);
      other.bindTo(registry);
      get(client, port);
      awaitClosed(accounting, 1);
      assertThat(closedCount(registry, null)).as("the close, counted once").isEqualTo(1);
      assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).tag("client", "orders").gauges()).hasSize(1);

      metrics.close();
      assertThat(registry.getMeters()).as("the other client's meters stay").isNotEmpty()
          .allSatisfy(m -> assertThat(m.getId().getTag("client")).isEqualTo("payments"));
      get(client, port);
      awaitClosed(accounting, 2);
      assertThat(registry.find(TimeWaitMetrics.CLOSED).counters()).as("closed: no longer metered")
          .isEmpty();
      metrics.close(); // idempotent
      assertThatThrownBy(() -> metrics.bindTo(registry)).isInstanceOf(IllegalStateException.class)
          .hasMessage("TimeWaitMetrics for client orders is closed");

      // Unbound first, then closed: its meters go all the same.
      TimeWaitMetrics unbound = TimeWaitMetrics.of("unbound-first", accounting);
      unbound.bindTo(registry);
      get(client, port);
      awaitClosed(accounting, 3);
      unbound.unbind();
      unbound.close();
      assertThat(registry.find(TimeWaitMetrics.CLOSED).tag("client", "unbound-first").counters()).isEmpty();
    } finally {
      other.close();
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(registry.getMeters()).isEmpty();
  }

  @Test
  void twoBindersOverOneAccountingUnderOneNameCountEachCloseOnce() throws Exception {
    // A Spring @Bean TimeWaitMetrics that Boot binds, and the README's TimeWaitMetrics.of(...)
    // .bindTo(registry) of the user's, over the same client: two binder objects. The second took
    // the name over, and the first went on metering closes into the same counters: closed read
    // twice the connections opened.
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    int port = server.getAddress().getPort();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics bean = TimeWaitMetrics.of("orders", accounting);
    TimeWaitMetrics users = TimeWaitMetrics.of("orders", accounting);
    try {
      bean.bindTo(registry);
      users.bindTo(registry);
      get(client, port);
      awaitClosed(accounting, 1);
      assertThat(closedCount(registry, null)).as("the close, counted once").isEqualTo(1);
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "orders").functionCounter().count())
          .isEqualTo(1);
      bean.close();
      get(client, port);
      awaitClosed(accounting, 2);
      assertThat(closedCount(registry, null)).as("the binder that took the name over meters on")
          .isEqualTo(2);
    } finally {
      bean.close();
      users.close();
      TimeWaitOkHttp.shutdown(client);
    }
  }

  @Test
  void aClientRecreatedUnderTheSameNameIsMeteredByTheNewBinderAndTheOldOnesCloseLeavesItsMeters()
      throws Exception {
    // A client replaced (a refreshed bean, a blue/green swap) whose binder was not closed first:
    // the opened counter kept reading the old client's accounting (3 for good) and the gauges its
    // sampler; closing the old binder then removed the new one's meters, and opened and the
    // gauges never came back.
    int port = server.getAddress().getPort();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OkHttpClient oldClient = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    OkHttpClient newClient = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting oldAccounting = TimeWaitOkHttp.accounting(oldClient);
    CloseAccounting newAccounting = TimeWaitOkHttp.accounting(newClient);
    TimeWaitMetrics oldMetrics = TimeWaitMetrics.builder("payments", oldAccounting)
        .destination("localhost", port).kernelGauges().build();
    TimeWaitMetrics newMetrics = TimeWaitMetrics.builder("payments", newAccounting)
        .destination("localhost", port).kernelGauges().build();
    try {
      oldMetrics.bindTo(registry);
      for (int i = 0; i < 3; i++) {
        get(oldClient, port);
      }
      awaitClosed(oldAccounting, 3);

      newMetrics.bindTo(registry);
      for (int i = 0; i < 5; i++) {
        get(newClient, port);
      }
      awaitClosed(newAccounting, 5);
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "payments").functionCounter().count())
          .as("opened reads the new client").isEqualTo(5);
      assertThat(closedCount(registry, null)).as("closes of both, under the one name").isEqualTo(8);

      oldMetrics.close();
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "payments").functionCounter().count())
          .as("the new binder's opened stays").isEqualTo(5);
      assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).tag("client", "payments").gauges()).hasSize(1);
      get(newClient, port);
      awaitClosed(newAccounting, 6);
      assertThat(closedCount(registry, null)).as("the close counters stay too").isEqualTo(9);

      newMetrics.close();
      assertThat(registry.getMeters()).isEmpty();
    } finally {
      oldMetrics.close();
      newMetrics.close();
      TimeWaitOkHttp.shutdown(oldClient);
      TimeWaitOkHttp.shutdown(newClient);
    }
  }

  @Test
  void aBindUnderWayAsTheBinderClosesLeavesNoMeterBehind() throws Exception {
    // bindTo passed its closed check, then registered while close() ran whole: its meters, its
    // gauges and its close listener stayed, and later closes were metered by a closed binder.
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    int port = server.getAddress().getPort();
    HeldRegistration held = new HeldRegistration(TimeWaitMetrics.OPENED);
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", accounting)
        .destination("localhost", port).kernelGauges().build();
    try {
      held.closeDuring(metrics, () -> {
        metrics.bindTo(held.registry);
        return null;
      });
      get(client, port);
      awaitClosed(accounting, 1);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(held.registry.getMeters()).isEmpty();
  }

  @Test
  void aCloseUnderWayAsTheBinderClosesLeavesNoMeterBehind() throws Exception {
    // The close's listener passed the closed check, then registered its counter after close()
    // had removed the meters: it stayed in the registry for good.
    OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.reset());
    CloseAccounting accounting = TimeWaitOkHttp.accounting(client);
    int port = server.getAddress().getPort();
    HeldRegistration held = new HeldRegistration(TimeWaitMetrics.CLOSED);
    TimeWaitMetrics metrics = TimeWaitMetrics.of("orders", accounting);
    metrics.bindTo(held.registry);
    try {
      held.closeDuring(metrics, () -> {
        get(client, port);
        return null;
      });
      awaitClosed(accounting, 1);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(held.registry.getMeters()).isEmpty();
  }

  @Test
  void badArgumentsAreRejectedByName() {
    CloseAccounting accounting = new CloseAccounting();
    assertThatThrownBy(() -> TimeWaitMetrics.of(null, accounting))
        .isInstanceOf(NullPointerException.class).hasMessage("clientName cannot be null");
    assertThatThrownBy(() -> TimeWaitMetrics.of("c", null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> TimeWaitMetrics.of("c", accounting).maxDestinations(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxDestinations must be > 0, but was 0");
    assertThatThrownBy(() -> TimeWaitMetrics.of("c", accounting).maxDestinations(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxDestinations must be > 0, but was -3");
    assertThatThrownBy(() -> TimeWaitMetrics.of("c", accounting).bindTo(null))
        .isInstanceOf(NullPointerException.class).hasMessage("registry cannot be null");
  }

  /**
   * A registry whose first registration of a meter named {@code name} is held: the thread
   * registering it counts {@link #registering} down, then waits for {@link #release} (at most 5 s:
   * never a hang).
   */
  private static final class HeldRegistration {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final java.util.concurrent.CountDownLatch registering = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    HeldRegistration(String name) {
      registry.config().meterFilter(new io.micrometer.core.instrument.config.MeterFilter() {
        @Override
        public io.micrometer.core.instrument.Meter.Id map(io.micrometer.core.instrument.Meter.Id id) {
          if (id.getName().equals(name) && registering.getCount() > 0) {
            registering.countDown();
            try {
              release.await(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return id;
        }
      });
    }

    /**
     * Runs {@code call} on another thread until its registration is held, closes {@code
     * metrics}, then lets the call finish: the race of that call with {@code close()}.
     */
    void closeDuring(TimeWaitMetrics metrics, java.util.concurrent.Callable<?> call) throws Exception {
      java.util.concurrent.ExecutorService thread = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        java.util.concurrent.Future<?> underWay = thread.submit(call);
        assertThat(registering.await(5, java.util.concurrent.TimeUnit.SECONDS))
            .as("the call registering").isTrue();
        metrics.close();
        release.countDown();
        underWay.get(10, java.util.concurrent.TimeUnit.SECONDS);
      } finally {
        release.countDown();
        thread.shutdownNow();
      }
    }
  }

  private static double closedCount(SimpleMeterRegistry registry, String mode) {
    return registry.find(TimeWaitMetrics.CLOSED).counters().stream()
        .filter(c -> mode == null || mode.equals(c.getId().getTag("mode")))
        .mapToDouble(Counter::count).sum();
  }

  private static void get(OkHttpClient client, int port) throws IOException {
    Request request = new Request.Builder().url("http://localhost:" + port + "/").build();
    try (Response response = client.newCall(request).execute()) {
      assertThat(response.body().string()).isEqualTo("ok");
    }
  }

  /** Closes may finish on OkHttp's threads after the call returns: bounded wait. */
  private static CloseStats awaitClosed(CloseAccounting accounting, long closed)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    CloseStats stats = accounting.snapshot();
    while (stats.closed() < closed && System.nanoTime() < deadline) {
      Thread.sleep(10);
      stats = accounting.snapshot();
    }
    assertThat(stats.closed()).as(stats.toString()).isEqualTo(closed);
    return stats;
  }
}
