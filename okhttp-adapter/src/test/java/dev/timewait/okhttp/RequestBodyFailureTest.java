package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.Test;

/**
 * A request whose own body fails as it is written (a file gone, a source that throws) on a reused
 * pooled connection: the peer closed nothing, so it is not the unanswered retry's to send again
 * (OkHttp itself does not retry it: its exchange did not fail). Before, the retry took "no byte of
 * a response since the request" for the peer's close, wrote the body a second time and counted a
 * stale retry.
 */
class RequestBodyFailureTest {
  @Test
  void anIdempotentRequestWhoseOwnBodyFailsOnAReusedConnectionIsNotSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().retryOnConnectionFailure(false),
        PooledKeepAlive.builder().build(), accounting).build();
    AtomicInteger writes = new AtomicInteger();
    RequestBody failing = new RequestBody() {
      @Override
      public MediaType contentType() {
        return MediaType.get("application/octet-stream");
      }

      @Override
      public long contentLength() {
        return 1024;
      }

      @Override
      public void writeTo(BufferedSink sink) throws IOException {
        writes.incrementAndGet();
        throw new java.io.FileNotFoundException("upload.bin (the caller's file is gone)");
      }
    };
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      String url = "http://127.0.0.1:" + peer.port() + "/doc";
      try (Response warm = client.newCall(new Request.Builder().url(url).build()).execute()) {
        assertThat(warm.body().string()).isEqualTo("ok");
      }
      assertThatThrownBy(() -> client.newCall(new Request.Builder().url(url).put(failing).build()).execute())
          .isInstanceOf(java.io.FileNotFoundException.class);
      assertThat(writes).as("the body written; %s", accounting.snapshot()).hasValue(1);
      assertThat(accounting.snapshot().staleRetries()).isZero();
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
  }
}
