package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.ServerClose;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Server close with a chunked body, whose length OkHttp does not know: the one case where the
 * tracker wraps the body to tell a complete exchange from one closed before its end (a body of
 * known length is told by the bytes OkHttp reports at its end; {@link CancelAndTimeoutTest}). A
 * plain-socket peer answers {@code Connection: close} with a chunked body, then closes or not.
 */
class ChunkedServerCloseTest {
  private static final Duration LONG_FIN_WAIT = Duration.ofSeconds(10);
  private static final long NO_WAIT_BOUND_MS = LONG_FIN_WAIT.toMillis() / 2;
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final String BODY = "chunked body";

  private ServerSocket listener;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private OkHttpClient client;
  private CloseAccounting accounting;
  private final ClientPorts ports = new ClientPorts();

  @BeforeEach
  void readable() {
    KernelTcp.assumeReadable();
  }

  @AfterEach
  void stop() throws IOException {
    if (client != null) {
      TimeWaitOkHttp.shutdown(client);
    }
    if (listener != null) {
      listener.close();
    }
    for (Socket socket : accepted) {
      socket.close();
    }
  }

  /** Starts a peer that answers one request with a chunked body and closes after it if asked. */
  private String startPeer(boolean closeAfterResponse) throws IOException {
    listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    Thread peer = new Thread(() -> {
      try {
        listener.setSoTimeout(10_000);
        Socket socket = listener.accept();
        accepted.add(socket);
        socket.setSoTimeout(10_000);
        readRequestHead(socket.getInputStream());
        String chunk = Integer.toHexString(BODY.length()) + "\r\n" + BODY + "\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: close\r\n\r\n" + chunk + "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (closeAfterResponse) {
          socket.close(); // the server closes first: its FIN ends the client's wait
        }
      } catch (IOException e) {
        // the test's assertions tell what happened
      }
    }, "chunked-peer");
    peer.setDaemon(true);
    peer.start();
    return "http://127.0.0.1:" + listener.getLocalPort() + "/";
  }

  private static void readRequestHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int read = 0; read < 64 * 1024 && matched < end.length; read++) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  private Response execute(String url) throws IOException {
    accounting = new CloseAccounting();
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().eventListener(ports),
        ServerClose.builder().finWait(LONG_FIN_WAIT).build(), accounting).build();
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  @Test
  void aChunkedBodyReadToItsEndClosesAfterTheServersFin() throws Exception {
    String url = startPeer(true);
    try (Response response = execute(url)) {
      assertThat(response.body().contentLength()).isEqualTo(-1);
      assertThat(response.body().string()).isEqualTo(BODY);
    }
    KernelTcp.awaitClientSettled(listener.getLocalPort(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedAfterPeerFin()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedByReset()).as("%s", stats).isZero();
    assertThat(ports.timeWait()).isZero();
  }

  /**
   * A caller that parses the body (Jackson stops at the JSON value's last byte; Spring's response
   * closes without draining) reads all the content but not the last chunk: a complete exchange
   * all the same, which waits for the server's FIN. It reset before (session 39's audit).
   */
  @Test
  void aChunkedBodyWhoseContentWasReadButNotItsLastChunkClosesAfterTheServersFin() throws Exception {
    String url = startPeer(true);
    try (Response response = execute(url)) {
      assertThat(response.body().source().readUtf8(BODY.length())).isEqualTo(BODY);
    }
    KernelTcp.awaitClientSettled(listener.getLocalPort(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedAfterPeerFin()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedByReset()).as("%s", stats).isZero();
    assertThat(ports.timeWait()).isZero();
  }

  @Test
  void aChunkedBodyClosedBeforeItsEndResetsWithoutWaitingForAFin() throws Exception {
    String url = startPeer(false); // a FIN wait would last the whole 10 s
    Response response = execute(url);
    assertThat(response.body().contentLength()).isEqualTo(-1);
    long start = System.nanoTime();
    response.close();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(NO_WAIT_BOUND_MS);
    KernelTcp.awaitClientSettled(listener.getLocalPort(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedByReset()).as("%s", stats).isEqualTo(1);
    assertThat(stats.finWaitTimeouts()).as("%s", stats).isZero();
    assertThat(ports.timeWait()).isZero();
  }
}
