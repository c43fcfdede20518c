package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Reactor Netty's unanswered retry re-subscribes the call, which starts it over from its first
 * request and subscribes to its body again: it sends again only a call whose failed request is
 * that first one, and whose body can be made again. The kit's stale-connection contract covers
 * the rest (a PUT of known length sent again, a POST never).
 */
class UnansweredRetryTest {
  private static final Duration BOUND = Duration.ofSeconds(10);
  /** So that the connection is back in the pool before the next call. */
  private static final Duration BACK_IN_POOL = Duration.ofMillis(100);
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  /**
   * A POST answered {@code 303 See Other}, whose follow-up GET goes out on the reused connection
   * and is dropped unanswered: a retry would start the call over, with the POST, which the server
   * acted on already. The call fails; the POST reached the server once.
   */
  @Test
  void aPostRedirectedBy303WhoseFollowUpGetIsDroppedIsNeverSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = pooledClient(accounting, true);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.SEE_OTHER_THEN_DROP, Duration.ZERO, false)) {
      assertThatThrownBy(() -> client.post().uri("http://127.0.0.1:" + peer.port() + "/order")
          .send(ByteBufFlux.fromString(Mono.just("order")))
          .responseSingle((response, body) -> body.asString().defaultIfEmpty(""))
          .block(BOUND))
          .as("the dropped GET fails the call").isInstanceOf(Exception.class)
          .hasMessageNotContaining("Timeout on blocking read"); // block(BOUND) ran out: no failure
      Thread.sleep(BACK_IN_POOL.toMillis() * 3); // a second send would come at once
      // Before the fix: POST, GET (dropped), then the retry's POST once more. (A GET may follow
      // the dropped one: Reactor Netty's redirect sends it again, not timewait; idempotent.)
      assertThat(peer.requestLines()).as("what the server read; %s", accounting.snapshot())
          .startsWith("POST /order HTTP/1.1", "GET /next HTTP/1.1")
          .filteredOn(line -> line.startsWith("POST")).hasSize(1);
      assertNoRetryAndNoClientTimeWait(client, accounting, peer);
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  /**
   * A PUT whose body streams from a publisher that gives its bytes to its first subscriber only,
   * chunked or with a {@code Content-Length} the caller declared (a proxied upload, a
   * {@code DataBuffer} flux with {@code contentLength}): sent again, it would go out empty and
   * replace the resource with nothing, or, of declared length, leave server and client waiting for
   * a body that never comes. Dropped unanswered on a reused connection, the call fails instead.
   * (A body Reactor Netty writes with its head, from a {@code Mono}, is sent again: the kit's
   * stale-connection contract.)
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "declared length={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aStreamedBodyIsNeverSentAgain(boolean declaredLength) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = pooledClient(accounting, false);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      String uri = "http://127.0.0.1:" + peer.port() + "/doc";
      assertThat(client.get().uri(uri)
          .responseSingle(UnansweredRetryTest::statusOnceRead)
          .block(BOUND)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL.toMillis());
      byte[] chunk = "part".getBytes(StandardCharsets.US_ASCII);
      java.util.concurrent.atomic.AtomicInteger subscriptions = new java.util.concurrent.atomic.AtomicInteger();
      // Its bytes once; a second subscriber gets an empty stream, as from a spent hot source.
      Flux<byte[]> once = Flux.defer(() -> subscriptions.getAndIncrement() == 0
          ? Flux.just(chunk, chunk) : Flux.<byte[]>empty());
      assertThatThrownBy(() -> client.put().uri(uri)
          .send((request, out) -> {
            if (declaredLength) {
              request.header("Content-Length", Integer.toString(2 * chunk.length));
            }
            return out.sendByteArray(once);
          })
          .responseSingle((r, b) -> Mono.just(r.status().code()))
          .block(BOUND))
          .as("dropped unanswered on the reused connection").isInstanceOf(Exception.class)
          .hasMessageNotContaining("Timeout on blocking read"); // block(BOUND) ran out: no failure
      Thread.sleep(BACK_IN_POOL.toMillis() * 3);
      assertThat(peer.requests()).as("the PUT reached the peer once: %s", peer.requestLines()).isEqualTo(2);
      assertThat(subscriptions.get()).as("body subscriptions").isEqualTo(1);
      assertNoRetryAndNoClientTimeWait(client, accounting, peer);
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  /**
   * A request whose body is still being made (a {@code Mono} from a slow source) when the peer
   * closes the reused connection it was given: Reactor Netty writes such a body with its head, so
   * nothing went out, but it fails the call ("Connection has been closed BEFORE send operation")
   * and its own retry takes the request for sent. It goes once more, on a new connection, whatever
   * its method; its body is made again (the {@code Mono} subscribed twice).
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "sendString={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aRequestWhoseBodyWasStillBeingMadeWhenThePeerClosedGoesOutOnceOnANewConnection(
      boolean sendString) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = pooledClient(accounting, false);
    // The peer closes a connection idle 400 ms; the first body comes 700 ms after the call took
    // the connection, idle 100 ms by then: the peer's close comes first.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, Duration.ofMillis(400), false)) {
      String uri = "http://127.0.0.1:" + peer.port() + "/order";
      assertThat(client.get().uri(uri)
          .responseSingle(UnansweredRetryTest::statusOnceRead)
          .block(BOUND)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL.toMillis());
      java.util.concurrent.atomic.AtomicInteger subscriptions = new java.util.concurrent.atomic.AtomicInteger();
      Mono<String> body = Mono.defer(() -> subscriptions.getAndIncrement() == 0
          ? Mono.delay(Duration.ofMillis(700)).map(i -> "order") : Mono.just("order"));
      Integer status = client.post().uri(uri)
          .send((request, out) -> sendString
              ? out.sendString(body)
              : out.send(body.map(text -> io.netty.buffer.Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII))))
          .responseSingle(UnansweredRetryTest::statusOnceRead)
          .block(BOUND);
      assertThat(status).as("answered on a new connection; %s", accounting.snapshot()).isEqualTo(200);
      assertThat(peer.requestLines()).as("what the server read")
          .containsExactly("GET /order HTTP/1.1", "POST /order HTTP/1.1");
      assertThat(peer.accepted()).isEqualTo(2);
      assertThat(subscriptions.get()).as("body subscriptions").isEqualTo(2);
      assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isEqualTo(1);
      TimeWaitReactorNetty.shutdown(client);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  /**
   * A PUT whose own body fails as it is made (a file gone) on a reused connection: the peer closed
   * nothing, so it is not the unanswered retry's to send again (before, "no byte of a response"
   * made its body a second time and counted a stale retry).
   */
  @Test
  void anIdempotentRequestWhoseOwnBodyFailsOnAReusedConnectionIsNotSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = pooledClient(accounting, false);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      String uri = "http://127.0.0.1:" + peer.port() + "/doc";
      assertThat(client.get().uri(uri)
          .responseSingle(UnansweredRetryTest::statusOnceRead)
          .block(BOUND)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL.toMillis());
      java.util.concurrent.atomic.AtomicInteger subscriptions = new java.util.concurrent.atomic.AtomicInteger();
      Mono<String> body = Mono.defer(() -> {
        subscriptions.incrementAndGet();
        return Mono.error(new java.io.FileNotFoundException("upload.bin (the caller's file is gone)"));
      });
      assertThatThrownBy(() -> client.put().uri(uri)
              .send((request, out) -> out.sendString(body))
              .responseSingle(UnansweredRetryTest::statusOnceRead)
              .block(BOUND))
          .hasRootCauseInstanceOf(java.io.FileNotFoundException.class);
      Thread.sleep(300); // a second send would come at once
      assertThat(subscriptions.get()).as("body subscriptions; %s", accounting.snapshot()).isEqualTo(1);
      assertThat(accounting.snapshot().staleRetries()).isZero();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  /** The response's status, once its body was read whole. */
  private static Mono<Integer> statusOnceRead(
      reactor.netty.http.client.HttpClientResponse response, reactor.netty.ByteBufMono body) {
    return body.asString().defaultIfEmpty("").map(read -> response.status().code());
  }

  /** Pooled, with the unanswered retry on and Reactor Netty's own retry off. */
  private static HttpClient pooledClient(CloseAccounting accounting, boolean followRedirects) {
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(4).build();
    return TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("retry", strategy))
            .followRedirect(followRedirects).disableRetry(true).responseTimeout(BOUND),
        strategy, accounting);
  }

  /** Nothing sent again by timewait; the client shut down; no client TIME_WAIT towards the peer. */
  private static void assertNoRetryAndNoClientTimeWait(
      HttpClient client, CloseAccounting accounting, RawHttpPeer peer) {
    assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
    TimeWaitReactorNetty.shutdown(client);
    KernelTcp.awaitClientSettled(peer.port(), SETTLE);
    assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
  }
}
