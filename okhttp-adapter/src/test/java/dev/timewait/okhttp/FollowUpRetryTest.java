package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.time.Duration;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * The unanswered retry stands outside OkHttp's follow-ups (redirects, authentication challenges):
 * a retry there sends the call's first request again. A PUT answered {@code 303 See Other}, whose
 * follow-up GET goes out on the reused connection and is dropped unanswered, fails the call; the
 * PUT, which the server acted on, is not sent again (RFC 9110 9.2.2: only a request whose response
 * was not read may be retried).
 */
class FollowUpRetryTest {
  private static final MediaType OCTETS = MediaType.get("application/octet-stream");

  @Test
  void aPutRedirectedBy303WhoseFollowUpGetIsDroppedIsNeverSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().retryOnConnectionFailure(false),
        PooledKeepAlive.builder().build(), accounting).build();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.SEE_OTHER_THEN_DROP, Duration.ZERO, false)) {
      Request put = new Request.Builder().url("http://127.0.0.1:" + peer.port() + "/order")
          .put(RequestBody.create(new byte[] {1, 2, 3}, OCTETS)).build();
      assertThatThrownBy(() -> {
        try (Response response = client.newCall(put).execute()) {
          response.body().bytes();
        }
      }).as("the dropped GET fails the call").isInstanceOf(IOException.class);
      Thread.sleep(200); // a second send would come at once
      // Before the fix: PUT, GET (dropped), then the retry's PUT and GET once more.
      assertThat(peer.requestLines()).as("what the server read; %s", accounting.snapshot())
          .containsExactly("PUT /order HTTP/1.1", "GET /next HTTP/1.1");
      assertThat(accounting.snapshot().staleRetries()).isZero();
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
  }
}
