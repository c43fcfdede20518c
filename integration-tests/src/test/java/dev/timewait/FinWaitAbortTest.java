package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import dev.timewait.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A server close waiting for the FIN of a peer that never closes, with a 30 s FIN wait, is ended
 * early: by an interrupt of the waiting thread, {@link TimeWaitSocketFactory#abortFinWait} and
 * {@link TimeWaitSocketFactory#abortFinWaits}. The wait must end with an RST (no client
 * TIME_WAIT in the kernel's table) and count as a FIN-wait abort. The bound asserted (5 s) only
 * tells "ended at once" from "waited the 30 s out". A second close() from another thread is no
 * cancel (OkHttp's pool cleanup may close a connection as its call does): it leaves the wait
 * alone.
 */
class FinWaitAbortTest {
  private static final Duration FIN_WAIT = Duration.ofSeconds(30);
  private static final Duration ENDED_AT_ONCE = Duration.ofSeconds(5);
  private static final Duration SETTLE = Duration.ofSeconds(5);

  enum Abort {
    INTERRUPT,
    ABORT_FIN_WAIT,
    ABORT_FIN_WAITS
  }

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<Arguments> abortsPlainAndTls() {
    return Arrays.stream(Abort.values())
        .flatMap(a -> Stream.of(Arguments.of(a, false), Arguments.of(a, true)));
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("abortsPlainAndTls")
  void anAbortEndsTheFinWaitAtOnceWithAResetCountedAsAnAbort(Abort abort, boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory =
          TimeWaitSocketFactory.create(ServerClose.builder().finWait(FIN_WAIT).build());
      Socket socket = open(factory, peer.port(), tls)[1];
      SocketLayerTest.roundTrip(socket, true);
      assertThat(factory.arm(socket)).isTrue();

      AtomicBoolean interruptKept = new AtomicBoolean();
      Thread closer = new Thread(() -> {
        try {
          socket.close();
        } catch (IOException e) {
          // the outcome is read from the accounting
        }
        interruptKept.set(Thread.currentThread().isInterrupted());
      }, "fin-wait-closer");
      closer.start();
      assertThat(awaitFinWait(closer)).as("the closer waits for the FIN").isTrue();

      long start = System.nanoTime();
      switch (abort) {
        case INTERRUPT -> closer.interrupt();
        case ABORT_FIN_WAIT -> assertThat(factory.abortFinWait(socket)).isTrue();
        case ABORT_FIN_WAITS -> assertThat(factory.abortFinWaits()).isEqualTo(1);
      }
      closer.join(ENDED_AT_ONCE.toMillis());
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(closer.isAlive()).as("the wait went on for %s", took).isFalse();
      assertThat(took).isLessThan(ENDED_AT_ONCE);
      if (abort == Abort.INTERRUPT) {
        assertThat(interruptKept).as("the interrupt flag stays set").isTrue();
      }
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 0, 1, 0, 0));
      assertThat(factory.openConnections()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port()))
          .as(KernelTcp.describe(peer.port())).isZero();
    }
  }

  @org.junit.jupiter.api.Test
  void aSecondCloseFromAnotherThreadReturnsAtOnceAndLeavesTheFinWaitAlone() throws Exception {
    Duration finWait = Duration.ofMillis(500);
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE)) {
      TimeWaitSocketFactory factory =
          TimeWaitSocketFactory.create(ServerClose.builder().finWait(finWait).build());
      Socket socket = open(factory, peer.port(), false)[0];
      SocketLayerTest.roundTrip(socket, true);
      assertThat(factory.arm(socket)).isTrue();
      long started = System.nanoTime();
      Thread closer = new Thread(() -> {
        try {
          socket.close();
        } catch (IOException e) {
          // the outcome is read from the accounting
        }
      }, "fin-wait-closer");
      closer.start();
      assertThat(awaitFinWait(closer)).isTrue();

      long start = System.nanoTime();
      socket.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(200));
      closer.join(ENDED_AT_ONCE.toMillis());

      assertThat(closer.isAlive()).isFalse();
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(finWait.minusMillis(5));
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 0, 1, 0, 1, 0, 0, 0));
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /** Waits, at most 5 s, until {@code thread} reads in the socket layer's FIN wait. */
  static boolean awaitFinWait(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      for (StackTraceElement frame : thread.getStackTrace()) {
        if (frame.getClassName().startsWith(TimeWaitSocket.class.getName())
            && frame.getMethodName().equals("readSlices")) {
          return true;
        }
      }
      Thread.sleep(10);
    }
    return false;
  }

  /** The plain socket of the factory, and TLS layered over it as clients do, if {@code tls}. */
  private static Socket[] open(TimeWaitSocketFactory factory, int port, boolean tls)
      throws IOException {
    Socket raw = factory.createSocket(InetAddress.getLoopbackAddress(), port);
    raw.setTcpNoDelay(true);
    if (!tls) {
      return new Socket[] {raw, raw};
    }
    SSLSocket ssl = (SSLSocket) TestTls.get().clientContext().getSocketFactory()
        .createSocket(raw, "localhost", port, true);
    ssl.startHandshake();
    return new Socket[] {raw, ssl};
  }
}
