package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Copy-ready: Apache HttpClient 5's async client configured by timewait leaves no TIME_WAIT on
 * the client, whatever the strategy. Each test gets its own WireMock port, so the kernel's count
 * is that test's alone.
 */
class HttpAsyncClient5TimeWaitTest {
  @RegisterExtension
  WireMockExtension server = WireMockExtension.newInstance()
      .options(wireMockConfig().bindAddress("127.0.0.1").dynamicPort())
      .build();

  @BeforeEach
  void setUp() {
    KernelTimeWait.assumeLinux();
    server.stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void serverCloseLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(CloseStrategy.serverClose());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(CloseStrategy.reset());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(PooledKeepAlive.builder().maxTotal(4).maxRequestsPerConnection(10).build());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  private void sendRequestsWith(CloseStrategy strategy) throws Exception {
    try (CloseableHttpAsyncClient client = TimeWaitHttpClient5.newAsyncClient(strategy)) {
      client.start();
      for (int i = 0; i < 100; i++) {
        SimpleHttpResponse response = client
            .execute(SimpleRequestBuilder.get("http://127.0.0.1:" + server.getPort() + "/hello").build(), null)
            .get(10, TimeUnit.SECONDS);
        assertThat(response.getCode()).isEqualTo(200);
        assertThat(response.getBodyText()).isEqualTo("hello");
      }
    } // closing the client closes its pool: the strategy decides how
  }
}
