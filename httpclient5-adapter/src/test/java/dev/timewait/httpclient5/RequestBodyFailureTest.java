package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.Test;

/**
 * A request whose own entity fails as it is written (a file gone, a source that throws) on a
 * reused pooled connection of the classic client: the peer closed nothing, so it is not the
 * unanswered retry's to send again. Before, the retry took "no byte of a response since the
 * request" for the peer's close, wrote the entity a second time and counted a stale retry.
 */
class RequestBodyFailureTest {
  @Test
  void anIdempotentRequestWhoseOwnEntityFailsOnAReusedConnectionIsNotSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    AtomicInteger writes = new AtomicInteger();
    AbstractHttpEntity failing = new AbstractHttpEntity(ContentType.APPLICATION_OCTET_STREAM, null) {
      @Override
      public InputStream getContent() throws IOException {
        throw new java.io.FileNotFoundException("upload.bin (the caller's file is gone)");
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        writes.incrementAndGet();
        throw new java.io.FileNotFoundException("upload.bin (the caller's file is gone)");
      }

      @Override
      public long getContentLength() {
        return 1024;
      }

      @Override
      public boolean isRepeatable() {
        return true;
      }

      @Override
      public boolean isStreaming() {
        return false;
      }

      @Override
      public void close() {}
    };
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE);
        CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
                PooledKeepAlive.builder().build(), accounting, Flavor.options())
            .disableAutomaticRetries().build()) {
      String url = "http://127.0.0.1:" + peer.port() + "/doc";
      String warm = client.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
      assertThat(warm).isEqualTo("ok");
      HttpPut put = new HttpPut(url);
      put.setEntity(failing);
      assertThatThrownBy(() -> client.execute(put, r -> r.getCode()))
          .isInstanceOf(java.io.FileNotFoundException.class);
      assertThat(writes).as("the entity written; %s", accounting.snapshot()).hasValue(1);
      assertThat(accounting.snapshot().staleRetries()).isZero();
    }
  }

  /** The same on the async client: its entity producer fails as it produces the body. */
  @Test
  void anIdempotentRequestWhoseOwnProducerFailsOnAReusedAsyncConnectionIsNotSentAgain() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    AtomicInteger produced = new AtomicInteger();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
              org.apache.hc.client5.http.impl.async.HttpAsyncClients.custom(),
              PooledKeepAlive.builder().build(), accounting, Flavor.options())
          .disableAutomaticRetries().build();
      client.start();
      try {
        String url = "http://127.0.0.1:" + peer.port() + "/doc";
        assertThat(client.execute(org.apache.hc.client5.http.async.methods.SimpleRequestBuilder.get(url).build(), null)
            .get(10, java.util.concurrent.TimeUnit.SECONDS).getCode()).isEqualTo(200);
        Thread.sleep(100); // back in the pool
        org.apache.hc.core5.http.nio.AsyncEntityProducer failing =
            new org.apache.hc.core5.http.nio.entity.AbstractBinAsyncEntityProducer(0, ContentType.APPLICATION_OCTET_STREAM) {
              @Override
              public boolean isRepeatable() {
                return true;
              }

              @Override
              public long getContentLength() {
                return 1024;
              }

              @Override
              protected int availableData() {
                return 1024;
              }

              @Override
              protected void produceData(org.apache.hc.core5.http.nio.StreamChannel<java.nio.ByteBuffer> channel)
                  throws IOException {
                produced.incrementAndGet();
                throw new java.io.FileNotFoundException("upload.bin (the caller's file is gone)");
              }

              @Override
              public void failed(Exception cause) {}
            };
        org.apache.hc.core5.http.nio.AsyncRequestProducer put = org.apache.hc.core5.http.nio.support.AsyncRequestBuilder
            .put(url).setEntity(failing).build();
        java.util.concurrent.Future<org.apache.hc.client5.http.async.methods.SimpleHttpResponse> call = client.execute(put,
            org.apache.hc.client5.http.async.methods.SimpleResponseConsumer.create(), null);
        assertThatThrownBy(() -> call.get(10, java.util.concurrent.TimeUnit.SECONDS))
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
        Thread.sleep(300); // a second send would come at once
        assertThat(produced).as("the body produced; %s", accounting.snapshot()).hasValue(1);
        assertThat(accounting.snapshot().staleRetries()).isZero();
      } finally {
        client.close(org.apache.hc.core5.io.CloseMode.IMMEDIATE);
      }
    }
  }
}
