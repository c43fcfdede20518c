package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.ServerClose;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Server close on the classic client when its caller leaves a response before the body's end, with
 * no read under way: the connection was armed at the response's head, but the exchange did not end
 * by agreement, so its close must not wait for the server's FIN (HttpClient's {@code
 * CloseMode.IMMEDIATE} asks for no wait; the FIN comes only after the rest of the body). Before,
 * that close waited for the server's FIN, draining the body for up to the FIN wait, and counted
 * the strategy's own close. The peer streams: a first chunk, a pause, then the last chunk and its
 * FIN. TIME_WAIT is read from the kernel's table.
 */
class ClassicAbandonedResponseTest {
  /** The peer's pause inside the body: a close that waits for the FIN waits this long. */
  private static final Duration PAUSE = Duration.ofSeconds(3);
  private static final ServerClose STRATEGY = ServerClose.builder().finWait(Duration.ofSeconds(10)).build();
  private static final Duration EVENT_BOUND = Duration.ofSeconds(20);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aResponseClosedImmediatelyMidBodyResetsAtOnceAsAnAbortedExchange(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.PAUSED_STREAM, PAUSE, tls)) {
      Heard heard = new Heard();
      try (CloseableHttpClient client = client(heard.accounting)) {
        ClassicHttpResponse response = client.executeOpen(null, new HttpGet(uri(peer, tls)), null);
        InputStream body = response.getEntity().getContent();
        assertThat(new String(body.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
        long started = System.nanoTime();
        ((CloseableHttpResponse) response).close(CloseMode.IMMEDIATE);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.EXCHANGE_ABORTED);
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
        assertThat(took).as("the close waited for nothing; the peer's pause is %s", PAUSE).isLessThan(PAUSE);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /** A guard: HttpClient's graceful close reads the rest of the body, so the exchange ends by agreement. */
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aResponseClosedGracefullyMidBodyIsReadToItsEndAndClosedAfterTheServersFin(boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.PAUSED_STREAM, Duration.ofMillis(300), tls)) {
      Heard heard = new Heard();
      try (CloseableHttpClient client = client(heard.accounting)) {
        ClassicHttpResponse response = client.executeOpen(null, new HttpGet(uri(peer, tls)), null);
        assertThat(response.getEntity().getContent().readNBytes(2)).hasSize(2);
        response.close();

        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * A guard: what the adapter puts around a server close's response body keeps a chunked body's
   * trailers readable (HttpClient reads them from its own chunked stream, found by its type).
   */
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aChunkedResponsesTrailerStaysReadableUnderServerClose(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.PAUSED_STREAM_WITH_TRAILER, Duration.ZERO, tls)) {
      Heard heard = new Heard();
      try (CloseableHttpClient client = client(heard.accounting)) {
        List<String> trailers = client.execute(new HttpGet(uri(peer, tls)), response -> {
          assertThat(EntityUtils.toString(response.getEntity())).isEqualTo("ok");
          return response.getEntity().getTrailers().get().stream()
              .map(h -> h.getName() + ": " + h.getValue()).toList();
        });
        assertThat(trailers).containsExactly(RawHttpPeer.TRAILER);
        CloseEvent event = heard.first();
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
      }
    }
  }

  private static CloseableHttpClient client(CloseAccounting accounting) {
    return TimeWaitHttpClient5.configure(HttpClients.custom(), STRATEGY, accounting, Flavor.options())
        .build();
  }

  private static URI uri(RawHttpPeer peer, boolean tls) {
    return URI.create((tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/stream");
  }

  private static void assertNoClientTimeWait(RawHttpPeer peer) {
    KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
    assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
  }

  /** The closes one accounting heard. */
  private static final class Heard {
    final CloseAccounting accounting = new CloseAccounting();
    final List<CloseEvent> events = new CopyOnWriteArrayList<>();

    Heard() {
      accounting.addListener(events::add);
    }

    CloseEvent first() {
      assertThat(Leaks.await(() -> !events.isEmpty(), EVENT_BOUND))
          .as("a close heard within %s (%s)", EVENT_BOUND, accounting).isTrue();
      return events.get(0);
    }
  }
}
