package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.LoopbackServer;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests that upgrade the connection: a WebSocket ({@code newWebSocket}), and an upgrade
 * through {@code newCall} ({@code Connection: Upgrade}, which OkHttp 5.2+ hands back as the
 * response's socket). The upgrade keeps its {@code Connection} header under every strategy, and a
 * live WebSocket holds no slot of the pooled bound.
 */
class UpgradeTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(),
        PooledKeepAlive.builder().maxTotal(4).maxRequestsPerConnection(1).build());
  }

  /** Every request of server close and reset, and a pooled connection's last, is asked to close. */
  @ParameterizedTest
  @MethodSource("strategies")
  void anUpgradeRequestKeepsConnectionUpgradeUnderEveryStrategy(CloseStrategy strategy) throws Exception {
    try (UpgradePeer peer = new UpgradePeer()) {
      OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder()
          .connectTimeout(BOUND).readTimeout(BOUND), strategy, new CloseAccounting()).build();
      try {
        Request upgrade = new Request.Builder().url("http://127.0.0.1:" + peer.port() + "/up")
            .header("Connection", "Upgrade").header("Upgrade", "tcp").build();
        try (Response response = client.newCall(upgrade).execute()) {
          assertThat(response.code()).isEqualTo(101);
        }
        assertThat(peer.heads()).hasSize(1);
        assertThat(peer.heads().get(0).toLowerCase(Locale.ROOT)).as("the request head")
            .contains("\r\nconnection: upgrade\r\n").doesNotContain("connection: close");
      } finally {
        TimeWaitOkHttp.shutdown(client);
      }
    }
  }

  /**
   * A WebSocket's call ends only when the WebSocket does: with a slot of {@code maxTotal} (here 1)
   * it stalled every other call until the slot wait ran out.
   */
  @Test
  void aLiveWebSocketTakesNoSlotOfThePooledBound() throws Exception {
    KernelTcp.assumeReadable();
    // On a fresh port: client TIME_WAIT left towards a reused port would count as this test's.
    try (UpgradePeer ws = KernelTcp.startOnFreshPorts(UpgradePeer::new, UpgradePeer::close, UpgradePeer::port);
         RawHttpPeer http = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      CloseAccounting accounting = new CloseAccounting();
      OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder()
              .connectTimeout(Duration.ofSeconds(2)).readTimeout(BOUND),
          PooledKeepAlive.builder().maxTotal(1).build(), accounting).build();
      CountDownLatch open = new CountDownLatch(1);
      WebSocket socket = client.newWebSocket(
          new Request.Builder().url("ws://127.0.0.1:" + ws.port() + "/ws").build(),
          new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
              open.countDown();
            }
          });
      try {
        assertThat(open.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the WebSocket opened").isTrue();
        try (Response response = client.newCall(new Request.Builder()
            .url("http://127.0.0.1:" + http.port() + "/while-a-websocket-is-open").build()).execute()) {
          assertThat(response.code()).isEqualTo(200);
        }
      } finally {
        socket.cancel();
        TimeWaitOkHttp.shutdown(client);
      }
      KernelTcp.awaitClientSettled(ws.port(), BOUND);
      assertThat(KernelTcp.clientTimeWait(ws.port())).as("client TIME_WAIT towards the WebSocket peer")
          .isZero();
    }
  }

  /**
   * Answers each connection's first request with 101 (a WebSocket's with its accept key), records
   * the request head, then holds the connection until the client goes away. Test scope; every read
   * bounded by a socket timeout.
   */
  private static final class UpgradePeer implements AutoCloseable {
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final LoopbackServer server = new LoopbackServer("upgrade-peer", this::serve);

    UpgradePeer() throws IOException {}

    int port() {
      return server.port();
    }

    List<String> heads() {
      return List.copyOf(heads);
    }

    private void serve(Socket client) {
      try (client) {
        client.setSoTimeout(30_000);
        InputStream in = client.getInputStream();
        String head = RawHttpPeer.readRequestHead(in);
        if (head == null) {
          return;
        }
        heads.add(head);
        String key = null;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("sec-websocket-key:")) {
            key = line.substring(line.indexOf(':') + 1).trim();
          }
        }
        String answer = key == null
            ? "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            : "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n";
        client.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        while (in.read() >= 0) {
          // held until the client goes away (or the timeout)
        }
      } catch (Exception e) {
        // the client reset or went away
      }
    }

    /** RFC 6455 4.2.2: base64 of the SHA-1 of the key and the protocol's GUID. */
    private static String accept(String key) throws Exception {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(
          (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
