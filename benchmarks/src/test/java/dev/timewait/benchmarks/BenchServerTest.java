package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmarks' server keeps connections alive, and turns them over when asked, on real sockets. */
class BenchServerTest {
  private static final byte[] GET = "GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @Test
  void aTurnOverClosesEachOpenConnectionAfterItsNextResponseAndKeepsLaterOnesAlive() throws Exception {
    try (BenchServer server = new BenchServer();
        Socket before = new Socket("127.0.0.1", server.port())) {
      before.setSoTimeout(5_000);
      assertThat(exchange(before)).doesNotContainIgnoringCase("connection: close");

      server.turnOver();

      assertThat(exchange(before)).containsIgnoringCase("connection: close");
      assertThat(before.getInputStream().read()).as("the server closed after that response").isEqualTo(-1);
      try (Socket after = new Socket("127.0.0.1", server.port())) {
        after.setSoTimeout(5_000);
        assertThat(exchange(after)).doesNotContainIgnoringCase("connection: close");
        assertThat(exchange(after)).doesNotContainIgnoringCase("connection: close");
      }
      assertThat(server.accepted()).isEqualTo(2);
    }
  }

  @Test
  void everyPairThatTurnsConnectionsOverInWarmUpRunsWithoutAnError() throws Exception {
    PairRunner.Settings settings = new PairRunner.Settings(1, 3, 100, 2, 2, 20, 2_000);
    List<PairRunner.Pair> pairs = Benchmarks.pairs().stream().filter(PairRunner.Pair::reconnectsInWarmup).toList();
    assertThat(pairs).hasSize(BenchClient.Library.values().length + 2); // 1d for each, 1e and 1f
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      for (PairRunner.Pair pair : pairs) {
        PairRunner.Result result = new PairRunner(settings, ps).run(pair);
        assertThat(result.errors()).as(pair.label() + ": " + log).isZero();
      }
    }
  }

  /** Sends one GET and reads its whole response (head and the fixed-length body). */
  private static String exchange(Socket socket) throws IOException {
    socket.getOutputStream().write(GET);
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (head.indexOf("\r\n\r\n") < 0) {
      int c = in.read();
      assertThat(c).as("the response head ended early: " + head).isNotNegative();
      head.append((char) c);
    }
    assertThat(in.readNBytes(BenchServer.BODY_LENGTH)).hasSize(BenchServer.BODY_LENGTH);
    return head.toString();
  }
}
