package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.PooledKeepAlive;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * A call made on a thread that holds a connection slot (an {@code Authenticator} that fetches a
 * token with the same client, as OkHttp's recipes do) would wait for the slot its own thread
 * holds: with {@code maxTotal(1)} every such call failed after its connect timeout, where plain
 * OkHttp, which bounds no calls, answers it. It goes over the bound instead.
 */
class NestedCallTest {
  @Test
  void anAuthenticatorThatCallsTheSameClientIsAnsweredAtMaxTotalOne() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    AtomicInteger tokens = new AtomicInteger();
    server.createContext("/token", exchange -> {
      tokens.incrementAndGet();
      byte[] body = "t1".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.createContext("/api", exchange -> {
      boolean authorized = "Bearer t1".equals(exchange.getRequestHeaders().getFirst("Authorization"));
      if (!authorized) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
      }
      byte[] body = (authorized ? "ok" : "no").getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(authorized ? 200 : 401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    OkHttpClient plain = TimeWaitOkHttp.newClient(PooledKeepAlive.builder().maxTotal(1).build())
        .newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    OkHttpClient client = plain.newBuilder().authenticator((route, response) -> {
      try (Response token = plain.newCall(new Request.Builder().url(base + "/token").build()).execute()) {
        return response.request().newBuilder().header("Authorization", "Bearer " + token.body().string()).build();
      }
    }).build();
    try (Response response = client.newCall(new Request.Builder().url(base + "/api").build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.body().string()).isEqualTo("ok");
    } finally {
      TimeWaitOkHttp.shutdown(client);
      server.stop(0);
    }
    assertThat(tokens).hasValue(1);
  }
}
