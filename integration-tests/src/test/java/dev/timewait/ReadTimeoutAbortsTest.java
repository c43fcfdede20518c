package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A read timeout on an armed server-close socket, before its FIN wait began, means the response
 * never came whole: the exchange is aborted, so close() resets at once rather than waiting the
 * FIN wait for a server that is still sending (or stalled). Found by the fault contract's
 * response-timeout test on HttpClient 5 classic, which armed on the response head and then timed
 * out reading the body: close() blocked a further 2 s and counted a FIN-wait timeout.
 */
class ReadTimeoutAbortsTest {
  private static final Duration LONG_FIN_WAIT = Duration.ofSeconds(10);

  @Test
  void aReadTimeoutOnAnArmedSocketMakesCloseResetWithoutWaitingForAFin() throws Exception {
    KernelTcp.assumeReadable();
    CloseAccounting accounting = new CloseAccounting();
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(
        ServerClose.builder().finWait(LONG_FIN_WAIT).build(), accounting);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.STALL_MID_BODY)) {
      Socket socket = factory.createSocket("127.0.0.1", peer.port());
      OutputStream out = socket.getOutputStream();
      out.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] head = new byte[16];
      assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(head.length);
      assertThat(new String(head, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
      factory.arm(socket); // the response head came, as an adapter arms on it
      socket.setSoTimeout(200);
      byte[] sink = new byte[64 * 1024];
      assertThatThrownBy(() -> {
        while (in.read(sink) >= 0) {
          // read the half body until the stall times out
        }
      }).isInstanceOf(SocketTimeoutException.class);

      long start = System.nanoTime();
      socket.close();
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(took).as("close after the timeout waits no FIN").isLessThan(LONG_FIN_WAIT.dividedBy(2));
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedByReset()).isEqualTo(1);
      assertThat(stats.finWaitTimeouts()).isZero();
      assertThat(stats.open()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }
}
