package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.junit.jupiter.api.Test;

/**
 * A request with {@code Expect: 100-continue} to a server that ignores it: HttpCore waits for the
 * 100 with a read that times out (3 s), then sends the body, and the exchange completes. That
 * timeout is HttpCore's wait, not a cut exchange: the close is the strategy's, not {@code
 * EXCHANGE_ABORTED} (every close event, JFR event and Micrometer reason tag said so before).
 */
class ExpectContinueTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final String BODY = "hello";

  @Test
  void aTimedOutWaitForOneHundredContinueBeforeAWholeExchangeIsNoAbortedExchange() throws Exception {
    KernelTcp.assumeReadable();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    CloseAccounting accounting = new CloseAccounting();
    accounting.addListener(events::add);
    try (ServerSocket listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      Thread peer = new Thread(() -> answerWithoutContinue(listener), "ignores-expect");
      peer.setDaemon(true);
      peer.start();
      HttpPost post = new HttpPost("http://127.0.0.1:" + listener.getLocalPort() + "/");
      post.setConfig(RequestConfig.custom().setExpectContinueEnabled(true).build());
      post.setEntity(new StringEntity(BODY));
      try (CloseableHttpClient client = TimeWaitHttpClient5.newClient(CloseStrategy.serverClose(), accounting)) {
        String answer = client.execute(post, response -> EntityUtils.toString(response.getEntity()));
        assertThat(answer).isEqualTo("ok");
      }
      peer.join(10_000);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (events.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(events).hasSize(1);
      CloseEvent event = events.get(0);
      assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
      assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
      KernelTcp.awaitClientSettled(listener.getLocalPort(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(listener.getLocalPort())).isZero();
    }
  }

  /** Reads the head and the body (no 100 sent), answers and closes: one exchange. */
  private static void answerWithoutContinue(ServerSocket listener) {
    try {
      listener.setSoTimeout(10_000);
      try (Socket socket = listener.accept()) {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        String head = RawHttpPeer.readRequestHead(in);
        assertThat(head.toLowerCase(Locale.ROOT)).contains("expect: 100-continue");
        in.readNBytes(BODY.length());
        OutputStream out = socket.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (Exception e) {
      // the test's assertions tell what happened
    }
  }
}
