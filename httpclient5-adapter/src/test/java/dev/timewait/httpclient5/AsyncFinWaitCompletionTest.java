package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.ServerClose;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.LoopbackServer;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.Test;

/**
 * The async client's FIN waits that end at their bound: what runs then (the close's accounting,
 * the user's close listeners) runs off the one JVM-wide timer thread, so that a slow listener of
 * one client delays no other client's FIN wait.
 */
class AsyncFinWaitCompletionTest {
  @Test
  void aListenerThatBlocksOnOneClientsFinWaitTimeoutDelaysNoOtherClientsFinWait() throws Exception {
    // Both clients wait 200 ms for a FIN that does not come (the peer answers 204 and never
    // closes). The first client's listener blocks (a metrics registry under a lock, a log appender
    // that stalls): before, it ran on the timer thread every async client's deadlines share, so
    // the second client's wait ran on until the listener returned (here its 10 s bound).
    ServerClose strategy = ServerClose.builder().finWait(Duration.ofMillis(200)).build();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocking = new CountDownLatch(1);
    CloseAccounting slow = new CloseAccounting();
    slow.addListener(event -> {
      blocking.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    CloseAccounting other = new CloseAccounting();
    try (LoopbackServer peer = latePeer()) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      CloseableHttpAsyncClient first = TimeWaitHttpClient5.newAsyncClient(strategy, slow);
      CloseableHttpAsyncClient second = TimeWaitHttpClient5.newAsyncClient(strategy, other);
      first.start();
      second.start();
      try {
        assertThat(first.execute(SimpleRequestBuilder.get(uri).build(), null).get(5, TimeUnit.SECONDS)
            .getCode()).isEqualTo(204);
        assertThat(blocking.await(5, TimeUnit.SECONDS)).as("the first FIN wait ended within 5 s").isTrue();
        long started = System.nanoTime();
        assertThat(second.execute(SimpleRequestBuilder.get(uri).build(), null).get(5, TimeUnit.SECONDS)
            .getCode()).isEqualTo(204);
        // Bounded, and generous for a loaded machine: the wait itself is 200 ms.
        Leaks.await(() -> other.snapshot().closed() == 1, Duration.ofSeconds(3));
        assertThat(other.snapshot().closed()).as("the second client's close, while the first's listener blocks")
            .isEqualTo(1);
        assertThat(other.snapshot().finWaitTimeouts()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
      } finally {
        release.countDown();
        first.close(CloseMode.GRACEFUL);
        second.close(CloseMode.GRACEFUL);
      }
    }
  }

  @Test
  void aListenerThatThrowsAVirtualMachineErrorStillLetsTheTimedOutConnectionClose() throws Exception {
    // The accounting passes a VirtualMachineError from a close listener on (StackOverflowError:
    // a listener that recursed). The FIN wait's end counted the close before it closed the
    // connection, so the connection stayed open, holding its port, until the peer gave up.
    ServerClose strategy = ServerClose.builder().finWait(Duration.ofMillis(200)).build();
    CloseAccounting accounting = new CloseAccounting();
    accounting.addListener(event -> {
      throw new StackOverflowError("a close listener that recursed, on purpose");
    });
    CountDownLatch gone = new CountDownLatch(1);
    try (LoopbackServer peer = latePeer(gone)) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      CloseableHttpAsyncClient client = TimeWaitHttpClient5.newAsyncClient(strategy, accounting);
      client.start();
      try {
        assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), null).get(5, TimeUnit.SECONDS)
            .getCode()).isEqualTo(204);
        assertThat(gone.await(5, TimeUnit.SECONDS))
            .as("the peer saw the connection end within 5 s (its own bound is 10 s)").isTrue();
        assertThat(accounting.snapshot().finWaitTimeouts()).isEqualTo(1);
      } finally {
        client.close(CloseMode.GRACEFUL);
      }
    }
  }

  private static LoopbackServer latePeer() throws IOException {
    return latePeer(new CountDownLatch(1));
  }

  /**
   * The kit's loopback server, answering each connection's request 204 with {@code Connection:
   * close} and never closing it: it reads on until the client goes away (bounded by 10 s), then
   * counts {@code gone} down.
   */
  private static LoopbackServer latePeer(CountDownLatch gone) throws IOException {
    return new LoopbackServer("late-peer", socket -> {
      try (socket) {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        RawHttpPeer.readRequestHead(in);
        socket.getOutputStream().write(
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        while (in.read() >= 0) {
          // held open: no FIN from this side
        }
        gone.countDown();
      } catch (java.net.SocketTimeoutException bound) {
        // the 10 s bound passed: the client never ended the connection
      } catch (IOException reset) {
        gone.countDown(); // the client reset it
      }
    });
  }
}
