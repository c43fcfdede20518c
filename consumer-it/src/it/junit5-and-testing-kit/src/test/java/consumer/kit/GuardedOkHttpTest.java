package consumer.kit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseStrategy;
import dev.timewait.junit5.GuardTimeWait;
import dev.timewait.junit5.TimeWaitClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The junit5 guard and client resolver as a consumer's build resolves them: the OkHttp provider
 * is found by ServiceLoader in the published jar, its client made by the adapter, and the guard
 * reads the kernel's table (on Linux; elsewhere it skips, with a WARN).
 */
@GuardTimeWait(host = "127.0.0.1", portSupplier = "port")
class GuardedOkHttpTest {
  private static HttpServer server;

  static int port() {
    return server.getAddress().getPort();
  }

  @BeforeAll
  static void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 50);
    server.createContext("/", exchange -> {
      byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  @AfterAll
  static void stopServer() {
    server.stop(0);
  }

  @Test
  void resetCloseLeavesNoClientTimeWait(@TimeWaitClient(strategy = CloseStrategy.Kind.RESET) OkHttpClient client)
      throws IOException {
    for (int i = 0; i < 20; i++) {
      Request request = new Request.Builder().url("http://127.0.0.1:" + port() + "/").build();
      try (Response response = client.newCall(request).execute()) {
        assertEquals("ok", response.body().string());
      }
    }
  }
}
