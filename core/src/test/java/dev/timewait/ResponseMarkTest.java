package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.spi.ResponseMark;
import dev.timewait.spi.SocketControl;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** A response mark on a pooled loopback connection: per exchange, or one per connection. */
class ResponseMarkTest {
  @Test
  void oneMarkPerConnectionTellsEachExchangeWhetherThePeerClosedItBeforeAnyResponseByte() throws Exception {
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(PooledKeepAlive.builder().build());
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
         Socket peer = server.accept()) {
      ResponseMark mark = SocketControl.markResponse(factory, client);
      assertThat(mark).isNotNull();
      long first = mark.bytesRead();
      // Nothing read, and the peer closed nothing: an exchange failing now failed above the
      // socket (the caller's own request body), no retry's to send again.
      assertThat(mark.peerClosedUnanswered()).isFalse();
      assertThat(mark.peerClosedUnansweredSince(first)).isFalse();

      peer.getOutputStream().write(new byte[] {1, 2, 3});
      assertThat(client.getInputStream().readNBytes(3)).hasSize(3);

      assertThat(mark.bytesRead()).isEqualTo(first + 3);
      assertThat(mark.peerClosedUnanswered()).as("the mark's own exchange was answered").isFalse();
      long second = mark.bytesRead();
      assertThat(mark.peerClosedUnansweredSince(second)).as("the next exchange, nothing yet").isFalse();

      peer.shutdownOutput(); // the peer's FIN, before any byte of the next response
      assertThat(client.getInputStream().read()).isEqualTo(-1);
      assertThat(mark.peerClosedUnansweredSince(second))
          .as("the next exchange, counted with the same mark: closed unanswered").isTrue();
      assertThat(mark.peerClosedUnansweredSince(first)).as("answered before the close").isFalse();
    }
  }
}
