package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.TcpFilter;
import dev.timewait.TcpState;
import dev.timewait.TcpTable;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.testing.KernelTcp;
import java.time.Duration;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's snippets, as the README shows them (with the URL pointed at WireMock): they compile,
 * they work, and they leave no client TIME_WAIT. Change the README when you change these.
 */
@WireMockTest
class ReadmeSnippetsTest {
  private String url;
  private int port;

  @BeforeEach
  void stub(WireMockRuntimeInfo wm) {
    KernelTcp.assumeReadable();
    wm.getWireMock().register(get(urlEqualTo("/ping")).willReturn(aResponse().withBody("pong")));
    port = wm.getHttpPort();
    url = "http://127.0.0.1:" + port + "/ping";
  }

  @Test
  void httpClient5ClassicSnippetLeavesNoClientTimeWait() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    CloseableHttpClient client = TimeWaitHttpClient5
        .configure(HttpClients.custom(), CloseStrategy.serverClose(), accounting)
        .build();
    try (CloseableHttpResponse r = client.execute(new HttpGet(url))) {
      EntityUtils.consume(r.getEntity());
    }
    client.close();

    assertThat(accounting.snapshot().closedAfterPeerFin()).isEqualTo(1);
    assertNoClientTimeWait();
  }

  @Test
  void httpClient5AsyncSnippetLeavesNoClientTimeWait() throws Exception {
    CloseableHttpAsyncClient client = TimeWaitHttpClient5
        .configure(HttpAsyncClients.custom(), CloseStrategy.reset())
        .build();
    client.start();
    SimpleHttpResponse response = client.execute(SimpleRequestBuilder.get(url).build(), null).get();
    client.close();

    assertThat(response.getCode()).isEqualTo(200);
    assertNoClientTimeWait();
  }

  @Test
  void okHttpSnippetLeavesNoClientTimeWait() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp
        .configure(new OkHttpClient.Builder(), PooledKeepAlive.builder().maxRequestsPerConnection(100).build(), accounting)
        .build();
    try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
      assertThat(response.body().string()).isEqualTo("pong");
    }
    TimeWaitOkHttp.shutdown(client);

    assertThat(accounting.snapshot().open()).isZero();
    assertNoClientTimeWait();
  }

  private void assertNoClientTimeWait() {
    KernelTcp.awaitClientSettled(port, Duration.ofSeconds(3));
    assertThat(TcpTable.system().count(TcpState.TIME_WAIT, TcpFilter.remotePort(port))).isZero();
  }
}
