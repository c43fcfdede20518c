package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The reuse check of pooled connections, on a plain loopback peer that closes after one byte. */
class ReuseCheckTest {
  private static final PooledKeepAlive POOLED =
      PooledKeepAlive.builder().staleCheckAfterIdle(Duration.ofMillis(50)).build();

  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void socketOptionCallsNeverRunTheCheckAndOnlyTheClientsOwnIsClosedFindsThePeerGone() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(POOLED);
      try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
           Socket peer = server.accept()) {
        exchangeOneByte(client, peer); // the exchange is over: the connection is idle
        peer.close(); // the peer's idle close: its FIN is in the client's receive queue
        Thread.sleep(150);

        // A client that already chose the connection sets its read timeout: that must not close
        // the socket under it ("Socket is closed"), as the JDK's option methods ask isClosed().
        client.setSoTimeout(2000);
        assertThat(client.getSoTimeout()).isEqualTo(2000);
        client.setTcpNoDelay(true);
        assertThat(factory.accounting().snapshot().closedIdleByPeer()).isZero();

        // The client's own question before reuse finds the FIN and retires the connection.
        assertThat(client.isClosed()).isTrue();
        CloseStats stats = factory.accounting().snapshot();
        assertThat(stats.closedIdleByPeer()).as("%s", stats).isEqualTo(1);
        assertThat(stats.closedAfterPeerFin()).as("%s", stats).isEqualTo(1);
      }
    }
  }

  @Test
  void aLiveConnectionIsCheckedOncePerReuseNotOncePerQuestion() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(POOLED);
      try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
           Socket peer = server.accept()) {
        exchangeOneByte(client, peer);
        Thread.sleep(150);
        assertThat(client.isClosed()).isFalse(); // checked: a 1 ms read found nothing
        for (int i = 0; i < 20; i++) {
          assertThat(client.isClosed()).isFalse();
        }
        // Twenty more questions right after the check do not read again: each read would wait
        // its 1 ms on this live connection (OkHttp asks three times per reuse).
        assertThat(((TimeWaitSocket) client).reuseChecks()).isEqualTo(1);
      }
    }
  }

  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void aZeroThresholdChecksEveryReuseEvenRightAfterTheLastCheck() throws Exception {
    PooledKeepAlive everyReuse = PooledKeepAlive.builder().staleCheckAfterIdle(Duration.ZERO).build();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(everyReuse);
      try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
           Socket peer = server.accept()) {
        exchangeOneByte(client, peer);
        assertThat(client.isClosed()).isFalse(); // the first reuse's check: the peer is there
        exchangeOneByte(client, peer); // that reuse's exchange, at once
        peer.close(); // then the peer's idle close, a few ms after its last check
        Thread.sleep(5);
        // The next reuse, well within the check's 20 ms freshness: an exchange came between, so
        // the last check says nothing about the connection now (before: not read, so a request
        // went into the closed connection).
        assertThat(client.isClosed()).isTrue();
        assertThat(((TimeWaitSocket) client).reuseChecks()).isEqualTo(2);
      }
    }
  }

  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void aCloseFromAnotherThreadDuringTheCheckIsNeitherCountedNorLearnedAsThePeers() throws Exception {
    // A client's shutdown closes a pooled connection while a reuse check reads it: the read fails
    // because of our own close. Counted as the peer's, it taught the accounting a peer idle
    // timeout (the idle time until then), which retired every later connection early.
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(POOLED);
      int caught = 0;
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      for (int i = 0; i < 40 && System.nanoTime() < deadline; i++) {
        try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
             Socket peer = server.accept()) {
          exchangeOneByte(client, peer);
          Thread.sleep(60); // past staleCheckAfterIdle: the next isClosed() reads
          Thread checker = new Thread(client::isClosed, "reuse-check");
          checker.start();
          if (awaitInTheCheck(checker)) {
            caught++;
          }
          client.close(); // the client's own close, from another thread, as the check reads
          checker.join(5_000);
          assertThat(checker.isAlive()).isFalse();
        }
      }
      CloseStats stats = factory.accounting().snapshot();
      assertThat(caught).as("closes that met a check under way").isPositive();
      assertThat(stats.closedIdleByPeer()).as("%s", stats).isZero();
      assertThat(factory.accounting().peerIdleTimeouts().learned()).isEmpty();
    }
  }

  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void aCloseFromAnotherThreadWhileABodyReadWaitsAfterAPauseTeachesNoIdleTimeout() throws Exception {
    // A stream's small event after a pause, then a cancel while the next read waits: another
    // thread's close (or, JDK 21+, the JDK's own call of close() from an interrupted virtual
    // thread's read). Before, close() took the pause and the few bytes after it for a TLS peer's
    // close_notify after its idle timeout, and learned 150 ms as that timeout.
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(POOLED);
      try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
           Socket peer = server.accept()) {
        pauseThenRead(client, peer, 10); // a small event of the stream
        InputStream in = client.getInputStream();
        Thread reader = new Thread(() -> {
          try {
            in.read(); // waits for the next event
          } catch (java.io.IOException closedUnderIt) {
            // the cancel
          }
        }, "stream-reader");
        reader.start();
        Thread.sleep(100);
        client.close();
        reader.join(5_000);
        assertThat(reader.isAlive()).isFalse();
      }
      assertNothingLearned(factory);
    }
  }

  @Test
  void aStreamsSmallLastEventAfterAPauseThenTheClientsCloseTeachesNoIdleTimeout() throws Exception {
    // A stream (server-sent events, a chunked body read as it comes) pauses, then ends with a
    // small last chunk; the pool then closes the connection (its shutdown, a retirement) while
    // the peer is still there. Before, close() took the pause and the few bytes after it for a TLS
    // peer's close_notify after its idle timeout, learned 150 ms, and retired every later
    // connection to that peer after 120 ms idle.
    assertNothingLearned(onLoopbackPair((client, peer) -> {
      pauseThenRead(client, peer, 5); // the last chunk, "0\r\n\r\n"
      client.close(); // the pool's close, right after the response ended
    }));
  }

  @Test
  void aStreamsLastEventThenAnIdleSpellThenATlsLikeCloseTeachesNotTheStreamsPause() throws Exception {
    // Over TLS the client's close writes close_notify before the socket closes. The stream's
    // small last event after a pause, then the connection idle in the pool until the peer closes,
    // then the pool's close with its close_notify: the peer's FIN is there, but the pause it
    // would teach is the stream's, not the idle time after which the peer closed.
    assertNothingLearned(onLoopbackPair((client, peer) -> {
      pauseThenRead(client, peer, 5);
      Thread.sleep(150); // idle in the pool
      peer.close(); // the peer's idle close
      Thread.sleep(20);
      client.getOutputStream().write(new byte[24]); // what close_notify writes
      client.close();
    }));
  }

  @Test
  void aPeerThatClosesAfterAFewBytesFollowingAPauseIsLearnedWhenTheClientClosesAtOnce()
      throws Exception {
    // What the close-time rule is for: over TLS a client's own stale check reads the peer's
    // close_notify (a few bytes) after the idle pause and closes without reading the FIN behind
    // it. Here the few bytes and the FIN come from a plain peer: the same on the socket.
    TimeWaitSocketFactory factory = onLoopbackPair((client, peer) -> {
      exchangeOneByte(client, peer);
      Thread.sleep(150);
      peer.getOutputStream().write(new byte[24]); // an alert record's size
      peer.close();
      assertThat(client.getInputStream().readNBytes(24)).hasSize(24);
      client.close();
    });
    CloseStats stats = factory.accounting().snapshot();
    assertThat(stats.closedIdleByPeer()).as("%s", stats).isEqualTo(1);
    assertThat(factory.accounting().peerIdleTimeouts().learned()).hasSize(1);
  }

  /** A test's body over one pooled client socket and the loopback peer it connected to. */
  @FunctionalInterface
  private interface PairBody {
    void run(Socket client, Socket peer) throws Exception;
  }

  /** Runs {@code body} over a fresh pooled client socket and its peer; the client's factory. */
  @SuppressWarnings("try") // the body may close a resource early, inside its try
  private static TimeWaitSocketFactory onLoopbackPair(PairBody body) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(POOLED);
      try (Socket client = factory.createSocket(server.getInetAddress(), server.getLocalPort());
           Socket peer = server.accept()) {
        body.run(client, peer);
      }
      return factory;
    }
  }

  /** Waits (bounded) until {@code checker} is inside the reuse check's read, or has ended. */
  private static boolean awaitInTheCheck(Thread checker) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (checker.isAlive() && System.nanoTime() < deadline) {
      for (StackTraceElement frame : checker.getStackTrace()) {
        if (frame.getMethodName().equals("peerClosedWhileIdle")) {
          return true;
        }
      }
      Thread.onSpinWait();
    }
    return false;
  }

  /**
   * An exchange, an idle pause past {@link PeerIdleTimeouts#MIN_LEARNED}, then {@code n} bytes from
   * the peer, read by the client: what a stream's small event after a pause looks like.
   */
  private static void pauseThenRead(Socket client, Socket peer, int n) throws Exception {
    exchangeOneByte(client, peer);
    Thread.sleep(150);
    peer.getOutputStream().write(new byte[n]);
    assertThat(client.getInputStream().readNBytes(n)).hasSize(n);
  }

  /** Nothing was counted as the peer's idle close, and no idle timeout learned. */
  private static void assertNothingLearned(TimeWaitSocketFactory factory) {
    CloseStats stats = factory.accounting().snapshot();
    assertThat(stats.closedIdleByPeer()).as("%s", stats).isZero();
    assertThat(factory.accounting().peerIdleTimeouts().learned()).isEmpty();
  }

  /** One request byte and one response byte: afterwards the client's last I/O was a read. */
  private static void exchangeOneByte(Socket client, Socket peer) throws Exception {
    client.getOutputStream().write('q');
    peer.getInputStream().read();
    peer.getOutputStream().write('a');
    InputStream in = client.getInputStream();
    assertThat(in.read()).isEqualTo('a');
  }
}
