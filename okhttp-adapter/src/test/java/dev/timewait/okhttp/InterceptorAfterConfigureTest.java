package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A network interceptor added after {@code configure} runs after timewait's and may take the
 * {@code Connection: close} off a connection's last request; OkHttp, which reads the request as
 * sent, would pool the connection again, past its request cap. It retires at its next reuse
 * instead (and a WARN says to add the interceptor before {@code configure}).
 */
class InterceptorAfterConfigureTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @ParameterizedTest
  @EnumSource(value = RawHttpPeer.Behaviour.class, names = {"KEEP_ALIVE", "ANNOUNCED_IDLE_CLOSE"})
  void theRequestCapHoldsThoughALaterInterceptorTakesConnectionCloseOff(RawHttpPeer.Behaviour peerSays)
      throws Exception {
    KernelTcp.assumeReadable();
    // ANNOUNCED_IDLE_CLOSE also says Keep-Alive: timeout=5, whose retirement must not replace
    // the retirement at the next reuse.
    try (RawHttpPeer peer = RawHttpPeer.start(peerSays, Duration.ofSeconds(5), false)) {
      OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder(),
              PooledKeepAlive.builder().maxRequestsPerConnection(2).build(), new CloseAccounting())
          .addNetworkInterceptor(chain -> chain.proceed(
              chain.request().newBuilder().header("Connection", "keep-alive").build()))
          .build();
      try {
        for (int i = 0; i < 6; i++) {
          try (Response response = client.newCall(new Request.Builder()
              .url("http://127.0.0.1:" + peer.port() + "/").build()).execute()) {
            assertThat(response.body().string()).isNotEmpty();
          }
        }
        assertThat(peer.requests()).isEqualTo(6);
        assertThat(peer.accepted()).as("connections for 6 requests, 2 each").isEqualTo(3);
      } finally {
        TimeWaitOkHttp.shutdown(client);
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }
}
