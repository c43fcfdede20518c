package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * Where the slot bound and the unanswered retry stand among the builder's own application
 * interceptors: one interceptor of timewait's when the builder had none of its own at {@code
 * configure}, else the bound before them and the retry after them, so that a retry runs only what
 * was added after {@code configure} (as OkHttp's own retries run none of the application
 * interceptors). The peer drops the second request on a connection unanswered.
 */
class UnansweredRetryLayoutTest {
  private static final MediaType OCTETS = MediaType.get("application/octet-stream");
  /** Long enough for the first call's connection to be back in the pool. */
  private static final long BACK_IN_POOL_MILLIS = 100;

  @Test
  void withNoApplicationInterceptorOfTheBuildersOwnOneInterceptorBoundsAndRetries() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().retryOnConnectionFailure(false),
        PooledKeepAlive.builder().maxTotal(4).build(), accounting).build();
    assertThat(client.interceptors()).singleElement().isInstanceOf(SlotInterceptor.class)
        .hasToString("TimeWaitOkHttp.SlotInterceptor[maxTotal=4, maxPerRoute=4, retryUnanswered]");

    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      String url = "http://127.0.0.1:" + peer.port() + "/stale";
      assertThat(execute(client, "GET", url)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL_MILLIS);
      assertThat(execute(client, "PUT", url)).as("dropped on the reused connection, answered on a fresh one")
          .isEqualTo(200);
      assertThat(peer.requests()).isEqualTo(3);
      assertThat(peer.accepted()).isEqualTo(2);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(accounting.snapshot().staleRetries()).isEqualTo(1);
  }

  @Test
  void theBuildersOwnApplicationInterceptorStaysBetweenTheBoundAndTheRetryAndRunsOncePerCall()
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    AtomicInteger own = new AtomicInteger();
    Interceptor counting = chain -> {
      own.incrementAndGet();
      return chain.proceed(chain.request());
    };
    OkHttpClient client = TimeWaitOkHttp.configure(
        new OkHttpClient.Builder().retryOnConnectionFailure(false).addInterceptor(counting),
        PooledKeepAlive.builder().maxTotal(4).build(), accounting).build();
    assertThat(client.interceptors()).hasSize(3);
    assertThat(client.interceptors().get(0)).isInstanceOf(SlotInterceptor.class)
        .hasToString("TimeWaitOkHttp.SlotInterceptor[maxTotal=4, maxPerRoute=4]");
    assertThat(client.interceptors().get(1)).isSameAs(counting);
    assertThat(client.interceptors().get(2)).isInstanceOf(UnansweredRetryInterceptor.class);

    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      String url = "http://127.0.0.1:" + peer.port() + "/stale";
      assertThat(execute(client, "GET", url)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL_MILLIS);
      assertThat(execute(client, "PUT", url)).isEqualTo(200);
      assertThat(peer.requests()).as("the PUT reached the peer twice: dropped, then answered").isEqualTo(3);
      assertThat(peer.accepted()).isEqualTo(2);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(own.get()).as("the builder's own interceptor, once per call").isEqualTo(2);
    assertThat(accounting.snapshot().staleRetries()).isEqualTo(1);
    assertThat(((SlotInterceptor) client.interceptors().get(0)).inUse()).isZero();
  }

  @Test
  void aPostIsNeverSentTwiceBesideTheBuildersOwnApplicationInterceptor() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp.configure(
        new OkHttpClient.Builder().retryOnConnectionFailure(false).addInterceptor(chain -> chain.proceed(chain.request())),
        PooledKeepAlive.builder().maxTotal(4).build(), accounting).build();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      String url = "http://127.0.0.1:" + peer.port() + "/stale";
      assertThat(execute(client, "POST", url)).isEqualTo(200);
      Thread.sleep(BACK_IN_POOL_MILLIS);
      assertThatThrownBy(() -> execute(client, "POST", url)).isInstanceOf(IOException.class);
      assertThat(peer.requests()).as("the second POST reached the peer once").isEqualTo(2);
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    assertThat(accounting.snapshot().staleRetries()).isZero();
  }

  @Test
  void withTheRetryOffOnlyTheBoundStandsBeforeTheBuildersOwnApplicationInterceptor() {
    Interceptor own = chain -> chain.proceed(chain.request());
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().addInterceptor(own),
        PooledKeepAlive.builder().maxTotal(4).retryUnanswered(false).build()).build();
    assertThat(client.interceptors()).hasSize(2);
    assertThat(client.interceptors().get(0)).hasToString("TimeWaitOkHttp.SlotInterceptor[maxTotal=4, maxPerRoute=4]");
    assertThat(client.interceptors().get(1)).isSameAs(own);
  }

  private static int execute(OkHttpClient client, String method, String url) throws IOException {
    RequestBody body = method.equals("GET") ? null : RequestBody.create(new byte[] {1, 2, 3}, OCTETS);
    try (Response response = client.newCall(new Request.Builder().url(url).method(method, body).build()).execute()) {
      response.body().bytes();
      return response.code();
    }
  }
}
