package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.PooledKeepAlive;
import dev.timewait.micrometer.TimeWaitMetrics;
import dev.timewait.okhttp.TimeWaitOkHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * Copy-ready: timewait's meters in a Micrometer registry. An OkHttp client with pooled
 * keep-alive sends 50 requests to WireMock; the meters count the connections it opened and how
 * they closed, and the kernel gauges (sampled from {@code /proc/net/tcp}, NaN off Linux) show no
 * client TIME_WAIT towards WireMock and ports to spare. Use your application's registry instead of
 * the {@code SimpleMeterRegistry}.
 */
@WireMockTest
class MicrometerExampleTest {
  @Test
  void metersCountTheClosesAndTheKernelGaugesShowNoClientTimeWait(WireMockRuntimeInfo wm)
      throws IOException {
    stubFor(get("/hello").willReturn(ok("hello")));
    OkHttpClient client = TimeWaitOkHttp.newClient(PooledKeepAlive.builder().build());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.builder("catalog", TimeWaitOkHttp.accounting(client))
        .kernelGauges() // timewait.connections.time.wait and timewait.ports.headroom
        .build()
        .bindTo(registry);
    try {
      Request request = new Request.Builder().url(wm.getHttpBaseUrl() + "/hello").build();
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
      assertThat(timeWait).isZero();
      assertThat(headroom).isPositive();
    }
  }
}
