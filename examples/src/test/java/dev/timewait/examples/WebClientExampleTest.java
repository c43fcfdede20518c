package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static dev.timewait.CloseStrategy.Kind.RESET;
import static dev.timewait.CloseStrategy.Kind.SERVER_CLOSE;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.junit5.GuardTimeWait;
import dev.timewait.junit5.TimeWaitClient;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.http.client.HttpClient;

/**
 * Copy-ready: Spring's {@code WebClient} on a Reactor Netty client configured by timewait leaves
 * no TIME_WAIT on the client, whatever the strategy. {@code @TimeWaitClient} hands each test a
 * configured Reactor Netty {@code HttpClient} and shuts it down after the test; {@code
 * @GuardTimeWait} then fails the test if any new client TIME_WAIT towards WireMock's port is in
 * the kernel's table (Linux; skipped elsewhere). The last test configures the client by hand, as
 * an application would.
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class WebClientExampleTest {
  static int wireMockPort(WireMockRuntimeInfo wm) {
    return wm.getHttpPort();
  }

  static CloseStrategy smallPool() {
    return PooledKeepAlive.builder().maxTotal(4).maxPerRoute(4).maxRequestsPerConnection(10).build();
  }

  @BeforeEach
  void stub() {
    stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void serverCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = SERVER_CLOSE) HttpClient client) {
    sendRequests(webClient(client), wm);
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = RESET) HttpClient client) {
    sendRequests(webClient(client), wm);
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategyMethod = "smallPool") HttpClient client) {
    sendRequests(webClient(client), wm);
  }

  @Test
  void anApplicationConfiguresItsOwnClientAndShutsItDown(WireMockRuntimeInfo wm) {
    CloseAccounting accounting = new CloseAccounting();
    CloseStrategy strategy = smallPool();
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("orders", strategy))
            .responseTimeout(Duration.ofSeconds(10)),
        strategy, accounting);
    try {
      sendRequests(webClient(client), wm);
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
    CloseStats stats = accounting.snapshot();
    assertThat(stats.closedLocallyFirst()).as("%s", stats).isZero();
    assertThat(stats.open()).as("%s", stats).isZero();
    // 100 requests, 10 each: 10 connections, and now and then one more (Reactor Netty releases a
    // connection to its pool on the event loop just after the response, which the next request
    // can beat; with a cap the pool empties at every retirement, so the race comes 10 times). Far
    // below the 100 a client without a pool would open.
    assertThat(stats.connectionsOpened()).as("%s", stats).isBetween(10L, 25L);
  }

  private static WebClient webClient(HttpClient client) {
    return WebClient.builder().clientConnector(new ReactorClientHttpConnector(client)).build();
  }

  private static void sendRequests(WebClient web, WireMockRuntimeInfo wm) {
    for (int i = 0; i < 100; i++) {
      String body = web.get().uri(wm.getHttpBaseUrl() + "/hello").retrieve()
          .bodyToMono(String.class).block(Duration.ofSeconds(10));
      assertThat(body).isEqualTo("hello");
    }
  }
}
