package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.spi.SocketControl;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import dev.timewait.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The socket layer against a raw peer on loopback, plain and TLS. Every count of TIME_WAIT comes
 * from the kernel's table, for each test's own server port.
 */
class SocketLayerTest {
  private static final int CONNECTIONS = 200;
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void clientThatClosesFirstLeavesOneTimeWaitPerConnection(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.observing();
      java.util.Set<Integer> localPorts = new java.util.HashSet<>();
      KernelCounters before = KernelCounters.read();
      for (int i = 0; i < CONNECTIONS; i++) {
        localPorts.add(exchange(factory, peer.port(), tls, false));
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      // The control: the measurement can fail, so the zeros elsewhere mean something. TIME_WAIT
      // is per 4-tuple: on loopback (tcp_tw_reuse=2) connect() may hand out a port whose
      // TIME_WAIT is over 1 s old, and the new connection takes that TIME_WAIT over (measured: 171
      // for 200 connections, TLS, with other builds connecting on loopback). One per tuple, but
      // for any an RST from the host ended early (KernelTcp's notes).
      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port()))
          .isBetween(localPorts.size() - KernelTcp.strayResetsSince(before), localPorts.size());
      assertThat(localPorts.size()).as("distinct client ports").isGreaterThan(CONNECTIONS / 2);
      assertThat(KernelTcp.serverTimeWait(peer.port())).isZero();
      assertThat(factory.accounting().snapshot())
          .isEqualTo(new CloseStats(CONNECTIONS, 0, 0, CONNECTIONS, 0, 0, 0, 0));
    }
  }

  /**
   * A server that resets 200 ms after its response, as a server close waits for its FIN: the
   * close is the strategy's, ended by the peer's reset, plain or over TLS. Before, over TLS the
   * reset came to the JDK's read for the peer's close_notify (the FIN wait beneath TLS), was taken
   * for a failed exchange, and the close counted as {@code EXCHANGE_ABORTED}.
   */
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aPeerThatResetsDuringTheFinWaitEndsItAsTheStrategysCloseNotAnAbortedExchange(boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.RESET_LATE, Duration.ofMillis(200), tls)) {
      CloseAccounting accounting = new CloseAccounting();
      java.util.List<CloseEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      accounting.addListener(events::add);
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(
          ServerClose.builder().finWait(Duration.ofSeconds(5)).build(), accounting);
      exchange(factory, peer.port(), tls, true);
      assertThat(events).hasSize(1);
      assertThat(events.get(0).reason()).as("%s", events).isEqualTo(CloseEvent.Reason.STRATEGY);
      assertThat(events.get(0).mode()).as("%s", events).isEqualTo(CloseEvent.Mode.RESET);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * The observing baseline counts what the client's own close did: a client that set SO_LINGER(0)
   * resets (HttpClient 5 classic does before a close in {@code CloseMode.IMMEDIATE}), and one that
   * half-closed before the server's FIN sent its FIN first, whatever it read after. Before, both
   * were counted by the server's FIN alone: the reset as closed locally first (no TIME_WAIT in the
   * kernel's table), the half-close as after the peer's FIN (a TIME_WAIT in it).
   */
  @org.junit.jupiter.api.Test
  void theObservingBaselineCountsAClientsOwnResetAndHalfCloseAsTheKernelSeesThem() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, false)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.observing();
      Socket reset = open(factory, peer.port(), false);
      roundTrip(reset, false);
      reset.setSoLinger(true, 0);
      reset.close();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("after the reset").isZero();
      assertThat(factory.accounting().snapshot().closedByReset()).as("%s", factory.accounting()).isEqualTo(1);

      Socket halfClosed = open(factory, peer.port(), false);
      roundTrip(halfClosed, false);
      halfClosed.shutdownOutput(); // the client's FIN first: the peer answers it with its own
      assertThat(halfClosed.getInputStream().read()).as("the peer's FIN").isEqualTo(-1);
      halfClosed.close();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("after the half-close").isEqualTo(1);
      assertThat(factory.accounting().snapshot())
          .isEqualTo(new CloseStats(2, 0, 1, 1, 0, 0, 0, 0));
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void resetCloseLeavesNoTimeWaitOnEitherSide(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
      for (int i = 0; i < CONNECTIONS; i++) {
        exchange(factory, peer.port(), tls, false);
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
      assertThat(KernelTcp.serverTimeWait(peer.port())).isZero();
      assertThat(factory.accounting().snapshot())
          .isEqualTo(new CloseStats(CONNECTIONS, 0, CONNECTIONS, 0, 0, 0, 0, 0));
      assertThat(factory.openConnections()).isZero();
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void serverCloseLeavesTimeWaitOnTheServerOnly(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.CLOSE_AFTER_RESPONSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      for (int i = 0; i < CONNECTIONS; i++) {
        exchange(factory, peer.port(), tls, true);
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(factory.accounting().snapshot())
          .isEqualTo(new CloseStats(CONNECTIONS, CONNECTIONS, 0, 0, 0, 0, 0, 0));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
      // At least 99%: a read of /proc/net/tcp6 can miss entries while the kernel's hash table
      // changes under it, and a rare server-side TIME_WAIT goes early; the client side is exact.
      assertThat(KernelTcp.awaitServerTimeWait(peer.port(), CONNECTIONS, SETTLE))
          .isBetween(CONNECTIONS * 99 / 100, CONNECTIONS);
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void serverCloseAgainstAPeerThatNeverClosesResetsWithinTheBound(boolean tls) throws Exception {
    Duration bound = Duration.ofMillis(200);
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory =
          TimeWaitSocketFactory.create(ServerClose.builder().finWait(bound).build());
      Socket socket = open(factory, peer.port(), tls);
      roundTrip(socket, true);
      factory.arm(socket);

      long start = System.nanoTime();
      socket.close();
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(took).isGreaterThanOrEqualTo(bound.minusMillis(5)).isLessThan(bound.plusMillis(500));
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 1, 0, 0, 0));
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * A cancel while the close waits for the server's FIN (OkHttp's {@code Call.cancel()} and call
   * timeout end a wait so) finds the connection, over TLS too: the JDK's TLS close waits in a read
   * for the peer's close_notify before its close reaches the socket beneath, which is found until
   * then (an audit read it as lost once the close began; JDK 17 and 25 both find it).
   */
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aFinWaitUnderWayIsFoundAndAbortedOverTlsToo(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory =
          TimeWaitSocketFactory.create(ServerClose.builder().finWait(Duration.ofSeconds(5)).build());
      Socket socket = open(factory, peer.port(), tls);
      roundTrip(socket, true);
      factory.arm(socket);
      java.util.concurrent.CompletableFuture<Void> closed = java.util.concurrent.CompletableFuture
          .runAsync(() -> {
            try {
              socket.close();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
      Thread.sleep(300); // the close waits for a FIN that never comes

      assertThat(SocketControl.abortFinWait(factory, socket)).as("found, still open").isTrue();

      closed.get(SETTLE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 0, 1, 0, 0));
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void serverCloseThatWasNotArmedResetsAtOnce(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = open(factory, peer.port(), tls);
      roundTrip(socket, false);

      long start = System.nanoTime();
      socket.close();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 0, 0, 0, 0));
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void closeWhileAnotherThreadReadsIsAnAbortAndResetsWithoutWaiting(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = open(factory, peer.port(), tls);
      roundTrip(socket, true);
      factory.arm(socket);
      Thread reader = new Thread(() -> {
        try {
          socket.getInputStream().read();
        } catch (IOException expected) {
          // closed under it
        }
      });
      reader.start();
      Thread.sleep(100);

      long start = System.nanoTime();
      socket.close();
      reader.join(2_000);

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1_000));
      assertThat(reader.isAlive()).isFalse();
      assertThat(factory.accounting().snapshot().finWaitTimeouts()).isZero();
      assertThat(factory.accounting().snapshot().closedByReset()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void armFindsTheConnectionBeneathALayeredSocket(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      try (Socket socket = open(factory, peer.port(), tls)) {
        assertThat(factory.owns(socket)).isTrue();
        assertThat(factory.arm(socket)).isTrue();
        assertThat(TimeWaitSocketFactory.create(CloseStrategy.reset()).arm(socket)).isFalse();
        assertThat(factory.openConnections()).isEqualTo(1);
      }
      assertThat(factory.openConnections()).isZero();
    }
  }

  /**
   * A client that configures its sockets through the generic option call (JDK 9+), which goes to
   * the implementation past {@code setSoLinger}: linger turned off there would make the reset's
   * close a FIN, and the peer (which closes once the client has) would leave the TIME_WAIT here.
   */
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void lingerSetThroughSetOptionCannotTurnAResetIntoAFin(boolean tls) throws Exception {
    int connections = 20;
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
      for (int i = 0; i < connections; i++) {
        Socket socket = open(factory, peer.port(), tls);
        try {
          roundTrip(socket, false);
          socket.setOption(StandardSocketOptions.SO_LINGER, -1); // linger off
        } finally {
          socket.close();
        }
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port())).isZero();
      assertThat(factory.accounting().snapshot().closedByReset()).isEqualTo(connections);
      assertThat(factory.openConnections()).isZero();
    }
  }

  /**
   * An {@code abortWhen} supplier (public SPI) that throws as the FIN wait polls it: the close was
   * under way, and the failure escaping it left the socket open, uncounted, and every later
   * close() a no-op. It ends the wait as an abort instead: an RST, counted.
   */
  @org.junit.jupiter.api.Test
  void anAbortWhenSupplierThatThrowsEndsTheFinWaitWithACountedReset() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, false)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = open(factory, peer.port(), false);
      roundTrip(socket, true);
      assertThat(SocketControl.arm(factory, socket, () -> {
        throw new IllegalStateException("a broken abortWhen supplier");
      })).isTrue();

      socket.close();

      assertThat(socket.isClosed()).isTrue();
      assertThat(factory.openConnections()).isZero();
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 0, 1, 0, 0));
      assertThat(Leaks.await(() -> Leaks.liveClientSockets(peer.port()) == 0, SETTLE))
          .as(KernelTcp.describe(peer.port())).isTrue();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * A fatal error ({@link VirtualMachineError}) from an {@code abortWhen} supplier is not hidden:
   * close() throws it. But the socket is closed and counted first, as any abort: before, it
   * escaped with the socket open, uncounted, and every later close() a no-op.
   */
  @org.junit.jupiter.api.Test
  void aFatalErrorFromAnAbortWhenSupplierEscapesCloseOnlyAfterACountedReset() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, false)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = open(factory, peer.port(), false);
      roundTrip(socket, true);
      StackOverflowError fatal = new StackOverflowError("a supplier that recursed too deep");
      assertThat(SocketControl.arm(factory, socket, () -> {
        throw fatal;
      })).isTrue();

      org.assertj.core.api.Assertions.assertThatThrownBy(socket::close).isSameAs(fatal);

      assertThat(socket.isClosed()).isTrue();
      assertThat(factory.openConnections()).isZero();
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 0, 1, 0, 0));
      assertThat(Leaks.await(() -> Leaks.liveClientSockets(peer.port()) == 0, SETTLE))
          .as(KernelTcp.describe(peer.port())).isTrue();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * A read blocked before the FIN wait began (TLS's close_notify started it: here a write of the
   * armed socket), then the wait aborted: the abort's shutdown(SHUT_RD) ends that read with an end
   * of stream, which is no FIN of the peer's. Taken for one, the close was graceful: a FIN of the
   * client's first, and client TIME_WAIT once the peer answered it with its own.
   */
  @org.junit.jupiter.api.Test
  void theEndOfStreamOfAnAbortedFinWaitIsNoPeerFinToAReadThatBeganBeforeIt() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, false)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = open(factory, peer.port(), false);
      roundTrip(socket, true);
      java.util.concurrent.CompletableFuture<Integer> read = java.util.concurrent.CompletableFuture
          .supplyAsync(() -> {
            try {
              return socket.getInputStream().read();
            } catch (IOException e) {
              return -2;
            }
          });
      Thread.sleep(200); // the read is blocked: the peer sends nothing until the client closes
      assertThat(SocketControl.arm(factory, socket)).isTrue();
      socket.getOutputStream().write(new byte[] {21, 3, 3}); // the FIN wait's clock starts
      assertThat(SocketControl.abortFinWait(factory, socket)).isTrue();
      assertThat(read.get(SETTLE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
          .as("the read ended by the abort").isLessThan(0);

      socket.close();

      CloseStats stats = factory.accounting().snapshot();
      assertThat(stats.closedAfterPeerFin()).as("%s", stats).isZero();
      assertThat(stats.finWaitAborts()).as("%s", stats).isEqualTo(1);
      assertThat(factory.openConnections()).isZero();
      assertThat(Leaks.await(() -> Leaks.liveClientSockets(peer.port()) == 0, SETTLE))
          .as(KernelTcp.describe(peer.port())).isTrue();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port())).isZero();
    }
  }

  /** One exchange on a new connection, closed the factory's way; returns its local port. */
  private static int exchange(TimeWaitSocketFactory factory, int port, boolean tls, boolean arm)
      throws IOException {
    Socket socket = open(factory, port, tls);
    int localPort = socket.getLocalPort();
    try {
      roundTrip(socket, arm);
      if (arm) {
        factory.arm(socket);
      }
    } finally {
      socket.close();
    }
    return localPort;
  }

  static Socket open(TimeWaitSocketFactory factory, int port, boolean tls) throws IOException {
    return layer(factory.createSocket(InetAddress.getLoopbackAddress(), port), port, tls);
  }

  /** {@code raw} as a client uses it: no Nagle, and TLS over it if {@code tls}. */
  static Socket layer(Socket raw, int port, boolean tls) throws IOException {
    raw.setTcpNoDelay(true); // as HTTP clients do; Nagle would hold TLS's small records back
    if (!tls) {
      return raw;
    }
    SSLSocket ssl = (SSLSocket) TestTls.get().clientContext().getSocketFactory()
        .createSocket(raw, "localhost", port, true);
    ssl.startHandshake();
    return ssl;
  }

  /** Writes one GET and reads the whole response (Content-Length body). */
  static void roundTrip(Socket socket, boolean connectionClose) throws IOException {
    socket.setSoTimeout(10_000);
    OutputStream out = socket.getOutputStream();
    out.write(("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: "
        + (connectionClose ? "close" : "keep-alive") + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("end of stream in the response head");
      }
      head.write(b);
    }
    String text = head.toString(StandardCharsets.US_ASCII);
    int at = text.toLowerCase().indexOf("content-length:");
    int length = Integer.parseInt(text.substring(at + 15, text.indexOf('\r', at)).trim());
    if (in.readNBytes(length).length != length) {
      throw new IOException("short body");
    }
  }
}
