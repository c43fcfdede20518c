package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.ServerClose;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The user's event loops disposed while a server close waits for the server's FIN (Spring's
 * {@code ReactorResourceFactory} stops its loops before a shutdown bean can call the adapter's
 * shutdown): Netty closes the channel itself, past the pipeline, so the close is the RST that the
 * wait's SO_LINGER(0) makes, and is counted as an aborted FIN wait.
 */
class LoopShutdownTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  @Test
  void loopsDisposedDuringAFinWaitCountTheCloseAsAnAbortedWaitNotAsAfterTheServersFin() throws Exception {
    KernelTcp.assumeReadable();
    ServerClose strategy = ServerClose.builder().finWait(Duration.ofSeconds(5)).build();
    CloseAccounting accounting = new CloseAccounting();
    LoopResources loop = LoopResources.create("disposed-loop", 1, true);
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(ConnectionProvider.newConnection()).runOn(loop).responseTimeout(BOUND),
        strategy, accounting);
    // Answers `Connection: close`, closes 8 s later: past the 5 s wait, which the test cuts short.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_LATE, Duration.ofSeconds(8), false)) {
      int before = Connections.FIN_WAITS.get(); // JVM-wide: an earlier test's may still run
      try {
        Integer status = client.get().uri("http://127.0.0.1:" + peer.port() + "/")
            .responseSingle((response, body) -> body.then(reactor.core.publisher.Mono.just(response.status().code())))
            .block(BOUND);
        assertThat(status).isEqualTo(200);
        Leaks.await(() -> Connections.FIN_WAITS.get() > before, BOUND);
        assertThat(accounting.snapshot().closed()).as("closed before the loops' disposal").isZero();

        loop.disposeLater(Duration.ZERO, Duration.ofSeconds(2)).block(BOUND);
        Leaks.await(() -> accounting.snapshot().closed() == 1, BOUND);
        CloseStats stats = accounting.snapshot();
        assertThat(stats.closedAfterPeerFin()).as("%s", stats).isZero();
        assertThat(stats.finWaitAborts()).as("%s", stats).isEqualTo(1);
        assertThat(stats.closedByReset()).as("%s", stats).isEqualTo(1);
        KernelTcp.awaitClientSettled(peer.port(), BOUND);
        assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
      } finally {
        TimeWaitReactorNetty.shutdown(client);
        loop.disposeLater(Duration.ZERO, Duration.ofSeconds(2)).block(BOUND);
      }
    }
  }
}
