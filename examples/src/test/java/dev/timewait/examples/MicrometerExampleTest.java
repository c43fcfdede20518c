package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.PortBudget;
import dev.timewait.micrometer.TimeWaitMetrics;
import dev.timewait.okhttp.TimeWaitOkHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * Copy-ready: timewait's meters in a Micrometer registry. An OkHttp client with pooled
 * keep-alive sends 50 requests to WireMock; the meters count the connections it opened and how
 * they closed, and the kernel gauges (sampled from {@code /proc/net/tcp}, NaN off Linux) show no
 * client TIME_WAIT added towards WireMock and ports to spare. Use your application's registry
 * instead of the {@code SimpleMeterRegistry}.
 *
 * <p>The TIME_WAIT gauge counts every socket of this host towards the destination, not only this
 * client's: WireMock takes a random free port, and another test's client may have closed first
 * towards that same port within the last minute (a port freed by one server is handed to the next
 * one). So the example reads the count before it starts and asserts that it did not grow.
 */
@WireMockTest
class MicrometerExampleTest {
  @Test
  void metersCountTheClosesAndTheKernelGaugesShowNoClientTimeWait(WireMockRuntimeInfo wm)
      throws IOException {
    stubFor(get("/hello").willReturn(ok("hello")));
    // TIME_WAIT towards WireMock's port before this client runs: left by an earlier user of the
    // port, if any. It can only expire (after 60 s), never grow, unless a client closes first.
    int timeWaitBefore =
        PortBudget.of(new InetSocketAddress("127.0.0.1", wm.getHttpPort())).timeWait();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OkHttpClient client = TimeWaitOkHttp.newClient(PooledKeepAlive.builder().build());
    // Closed at the end: it removes this client's meters from the registry, which (your
    // application's) outlives the client.
    try (TimeWaitMetrics metrics = TimeWaitMetrics.builder("catalog", TimeWaitOkHttp.accounting(client))
        .kernelGauges() // timewait.connections.time.wait and timewait.ports.headroom
        .build()) {
      metrics.bindTo(registry);
      try {
        Request request = new Request.Builder()
            .url("http://127.0.0.1:" + wm.getHttpPort() + "/hello").build();
        for (int i = 0; i < 50; i++) {
          try (Response response = client.newCall(request).execute()) {
            assertThat(response.body().string()).isEqualTo("hello");
          }
        }
      } finally {
        TimeWaitOkHttp.shutdown(client); // closes the pooled connections: with an RST
      }
      System.out.println(registry.getMetersAsString());

      double opened = registry.get("timewait.connections.opened").functionCounter().count();
      double closed = registry.find("timewait.connections.closed").counters().stream()
          .mapToDouble(Counter::count).sum();
      assertThat(opened).isBetween(1.0, 5.0); // pooled: a few connections carry all 50 requests
      assertThat(closed).isEqualTo(opened);
      assertThat(registry.find("timewait.connections.closed").tag("mode", "locally_first")
          .counters()).isEmpty(); // no close left TIME_WAIT on the client

      double timeWait = registry.get("timewait.connections.time.wait").gauge().value();
      double headroom = registry.get("timewait.ports.headroom").gauge().value();
      if (!Double.isNaN(timeWait)) { // NaN where the kernel's TCP table cannot be read (not Linux)
        assertThat(timeWait).isLessThanOrEqualTo(timeWaitBefore); // 0 unless the port was reused
        assertThat(headroom).isPositive();
      }
    }
    assertThat(registry.find("timewait.connections.opened").meters()).isEmpty(); // closed: gone
  }
}
