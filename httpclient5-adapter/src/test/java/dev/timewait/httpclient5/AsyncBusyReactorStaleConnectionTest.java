package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.async.methods.SimpleRequestProducer;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.client5.http.async.methods.AbstractBinResponseConsumer;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The async client's side of Reactor Netty's {@code BusyEventLoopStaleConnectionTest}: a POST after
 * the peer closed its pooled connection while idle succeeds even when the I/O reactor has not read
 * the peer's FIN yet. HttpClient re-validates a connection idle for {@code staleCheckAfterIdle}
 * with HttpCore's stale-check command, which the reactor answers after it has handled the
 * socket's input (HttpCore's {@code InternalDataChannel} handles a key's read before its write),
 * so the FIN waiting in the kernel is read first and the POST goes on a new connection. Without
 * the check (a connection idle for less than {@code staleCheckAfterIdle}; here the threshold is
 * set past the test), HttpCore reads the FIN just before it would begin the request and cancels
 * it ({@code RequestNotExecutedException}, which HttpClient's own retry never retries, a GET
 * neither): nothing of it went out, and the adapter sends it once more on a fresh connection,
 * whatever its method. The only I/O thread is held by another exchange's response consumer while
 * the peer closes; automatic retries are off.
 */
class AsyncBusyReactorStaleConnectionTest {
  private static final Duration PEER_IDLE =
      PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE.plusMillis(100);
  private static final Duration BOUND = Duration.ofSeconds(10);

  static Stream<Arguments> cases() {
    return Stream.of(Retirement.values()).flatMap(retirement -> Stream.of(false, true)
        .flatMap(tls -> Stream.of(Arguments.of(retirement, tls, true), Arguments.of(retirement, tls, false))));
  }

  @ParameterizedTest(name = "{0}, tls={1}, stale check={2}")
  @MethodSource("cases")
  void aPostAfterThePeersIdleCloseGoesOnANewConnectionWhileTheReactorIsBusy(Retirement retirement,
      boolean tls, boolean staleCheck) throws Exception {
    KernelTcp.assumeReadable();
    PooledKeepAlive strategy = PooledKeepAlive.builder().retirement(retirement)
        .staleCheckAfterIdle(staleCheck ? PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE : Duration.ofHours(1))
        .build();
    CloseAccounting accounting = new CloseAccounting();
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom()
            .setIOReactorConfig(IOReactorConfig.custom().setIoThreadCount(1).build())
            .disableAutomaticRetries(), strategy, accounting, Flavor.options())
        .build();
    client.start();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, PEER_IDLE, tls);
        RawHttpPeer other = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE, Duration.ZERO, false)) {
      String uri = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/";
      assertThat(post(client, uri).get(BOUND.toMillis(), TimeUnit.MILLISECONDS).getCode()).isEqualTo(200);

      // Hold the only I/O thread: another exchange's response consumer waits on it.
      Future<Void> holder = client.execute(
          SimpleRequestProducer.create(SimpleRequestBuilder.get("http://127.0.0.1:" + other.port() + "/").build()),
          new AbstractBinResponseConsumer<Void>() {
            @Override
            protected void start(HttpResponse response, ContentType contentType) {
              held.countDown();
              try {
                release.await(BOUND.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }

            @Override
            protected int capacityIncrement() {
              return Integer.MAX_VALUE;
            }

            @Override
            protected void data(ByteBuffer src, boolean endOfStream) {}

            @Override
            protected Void buildResult() {
              return null;
            }

            @Override
            public void releaseResources() {}
          }, null);
      assertThat(held.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("the reactor held").isTrue();
      assertThat(KernelTcp.awaitClient(TcpState.CLOSE_WAIT, peer.port(), 1, BOUND))
          .as("the idle connection in CLOSE_WAIT, the peer's FIN unread").isEqualTo(1);

      Future<SimpleHttpResponse> second = post(client, uri);
      Thread.sleep(100);
      release.countDown();
      assertThat(second.get(BOUND.toMillis(), TimeUnit.MILLISECONDS).getCode())
          .as("the POST after the peer's idle close").isEqualTo(200);
      holder.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);

      assertThat(peer.accepted()).as("connections the peer accepted").isEqualTo(2);
      assertThat(peer.requests()).as("requests the peer read: the POST once").isEqualTo(2);
      client.close(CloseMode.GRACEFUL);
      KernelTcp.awaitClientSettled(peer.port(), BOUND);
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedIdleByPeer()).as("closed idle by the peer").isEqualTo(1);
      assertThat(stats.staleRetries()).as("attempts sent again: the one that never went out")
          .isEqualTo(staleCheck ? 0 : 1);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      release.countDown();
      client.close(CloseMode.IMMEDIATE);
    }
  }

  private static Future<SimpleHttpResponse> post(CloseableHttpAsyncClient client, String uri) {
    // No body: the raw peer reads request heads only. A POST is never sent again, with or without.
    return client.execute(SimpleRequestBuilder.post(uri).build(), null);
  }
}
