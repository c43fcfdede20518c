package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStats;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The contracts' calls to the implementor's client are bounded: a client without timeouts that
 * waits for ever fails its test within the bound instead of hanging the build, and a call that
 * ends passes on its result or its failure unchanged.
 */
class BoundedCallsTest {
  private static final Duration SHORT = Duration.ofMillis(300);
  private static final URI URI_ANY = URI.create("http://127.0.0.1:1/");

  @Test
  void aCallThatEndsPassesOnItsResult() throws Exception {
    assertThat(BoundedCalls.within(SHORT, () -> 200)).isEqualTo(200);
  }

  @Test
  void aCallThatFailsPassesOnItsOwnExceptionOrError() {
    IOException reset = new IOException("Connection reset");
    assertThatThrownBy(() -> BoundedCalls.within(SHORT, () -> {
      throw reset;
    })).isSameAs(reset);
    StackOverflowError error = new StackOverflowError();
    assertThatThrownBy(() -> BoundedCalls.within(SHORT, () -> {
      throw error;
    })).isSameAs(error);
  }

  @Test
  void aReadWithoutTimeoutFromAPeerThatNeverAnswersFailsWithinTheBound() throws Exception {
    // What a client without a read timeout does when the peer never answers: a blocking read that
    // no interrupt ends. The test fails with the bound's message; the caller thread is left.
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort()), 5_000);
      long start = System.nanoTime();
      assertThatThrownBy(() -> BoundedCalls.within(SHORT, () -> socket.getInputStream().read()))
          .isInstanceOf(AssertionError.class)
          .hasMessage("call hung for more than PT0.3S");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    } // the close ends the caller thread's read
  }

  @Test
  void aHungCallIsInterrupted() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    assertThatThrownBy(() -> BoundedCalls.within(SHORT, () -> {
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        interrupted.countDown();
      }
      return null;
    })).isInstanceOf(AssertionError.class);
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the call was interrupted").isTrue();
  }

  @Test
  void aBoundedClientBoundsItsCallsAndItsClose() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    FaultClient hanging = new FaultClient() {
      @Override
      public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
          throws Exception {
        never.await();
        return null;
      }

      @Override
      public InFlight start(URI uri) {
        throw new UnsupportedOperationException("not under test");
      }

      @Override
      public CloseStats stats() {
        return null;
      }

      @Override
      public void close() throws Exception {
        never.await();
      }
    };
    FaultClient client = BoundedCalls.bounded(hanging, SHORT);
    assertThatThrownBy(() -> client.get(URI_ANY)).hasMessage("call hung for more than PT0.3S");
    assertThatThrownBy(() -> client.exchange("POST", URI_ANY, Map.of(), new byte[1]))
        .hasMessage("call hung for more than PT0.3S");
    assertThatThrownBy(client::close).hasMessage("call hung for more than PT0.3S");
    assertThatThrownBy(() -> client.start(URI_ANY)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void badBoundsAndNullsAreNamed() {
    assertThatThrownBy(() -> BoundedCalls.within(Duration.ZERO, () -> 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be > 0, but was PT0S");
    assertThatThrownBy(() -> BoundedCalls.within(Duration.ofHours(2), () -> 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be <= PT1H, but was PT2H");
    assertThatThrownBy(() -> BoundedCalls.within(SHORT, null))
        .isInstanceOf(NullPointerException.class).hasMessage("call cannot be null");
    assertThatThrownBy(() -> BoundedCalls.bounded(null, SHORT))
        .isInstanceOf(NullPointerException.class).hasMessage("client cannot be null");
  }
}
