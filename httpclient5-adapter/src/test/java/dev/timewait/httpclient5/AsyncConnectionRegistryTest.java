package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.function.Decorator;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.DefaultConnectingIOReactor;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOEventHandlerFactory;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The async client's registry of connections ({@link AsyncConnections}) lets go of every
 * connection once it is gone, and counts every close: the reactor reports closed sessions, but
 * never a connect that failed, which the registry forgets by itself, nor a connect whose cancel
 * closed its socket as it completed, whose close the registry counts by itself.
 */
class AsyncConnectionRegistryTest {

  @Test
  void connectsThatFailAreForgottenAndNeverPileUp() throws Exception {
    URI uri = ConnectFailureTest.refusedUri();
    CloseStrategy strategy = CloseStrategy.reset();
    CloseAccounting accounting = new CloseAccounting();
    AsyncConnections connections = new AsyncConnections(strategy, accounting);
    try (TestClient client = client(strategy, accounting, connections)) {
      for (int i = 0; i < 3 * AsyncConnections.SWEEP_EVERY; i++) {
        assertThatThrownBy(() -> client.get(uri)).hasStackTraceContaining("Connection refused");
        assertThat(connections.tracked())
            .as("connections tracked after %d refused connects", i + 1)
            .isLessThanOrEqualTo(AsyncConnections.SWEEP_EVERY);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"reset", "server close"})
  void everyClosedConnectionIsForgotten(String name) throws Exception {
    CloseStrategy strategy = name.equals("reset") ? CloseStrategy.reset() : CloseStrategy.serverClose();
    CloseAccounting accounting = new CloseAccounting();
    AsyncConnections connections = new AsyncConnections(strategy, accounting);
    // A well-behaved HTTP/1.1 server: answers a reset's requests keeping the connection, a
    // server close's Connection: close by closing first.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE);
        TestClient client = client(strategy, accounting, connections)) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      for (int i = 0; i < 20; i++) {
        assertThat(client.get(uri)).isEqualTo(200);
      }
      // The reactor reports each close once it has run its close callbacks: bounded wait.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (connections.tracked() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(connections.tracked()).as("connections tracked after 20 closed ones").isZero();
      assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(20);
      assertThat(accounting.snapshot().open()).isZero();
      assertThat(name.equals("reset")
          ? accounting.snapshot().closedByReset()
          : accounting.snapshot().closedAfterPeerFin()).isEqualTo(20);
    }
  }

  /**
   * A cancel that reaches HttpCore's connect as the reactor completes it: the session request is
   * cancelled, so the session the reactor reports up is no one's, and the cancelling thread,
   * preempted between cancelling the request and closing its connect channel, closes the socket
   * only after the reactor has handled the connect event. HttpCore never notices that close (the
   * selector drops the cancelled key); the registry counts it when swept, which the cancelling
   * thread does once its cancel returns ({@link AsyncCancelHandlesTest}). Before: the fault
   * contract's cancels racing connect left such a connection counted open for ever, 1 round in 500
   * on a loaded machine. Run on HttpCore's own reactor, which the test drives: the request is
   * cancelled before the reactor assigns its connect channel (so nothing closes then), and the
   * test closes the socket as the cancelling thread's close would, once the session is reported.
   */
  @Test
  void aConnectCancelledAsItCompletesHasItsCloseCountedThoughTheReactorNeverReportsIt()
      throws Exception {
    CloseStrategy strategy = CloseStrategy.serverClose();
    CloseAccounting accounting = new CloseAccounting();
    AsyncConnections connections = new AsyncConnections(strategy, accounting);
    CompletableFuture<Future<IOSession>> request = new CompletableFuture<>();
    AtomicReference<IOSession> decorated = new AtomicReference<>();
    AtomicReference<Thread> reactorThread = new AtomicReference<>();
    Decorator<IOSession> cancelling = session -> {
      reactorThread.set(Thread.currentThread()); // HttpCore decorates on the reactor thread
      decorated.set(connections.decorate(session));
      try {
        request.get(5, TimeUnit.SECONDS).cancel(true); // not yet assigned: nothing is closed
      } catch (Exception e) {
        throw new IllegalStateException("the session request never came", e);
      }
      return decorated.get();
    };
    IOEventHandlerFactory noOne = (session, attachment) -> new IdleHandler();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      DefaultConnectingIOReactor reactor = new DefaultConnectingIOReactor(noOne,
          IOReactorConfig.custom().setIoThreadCount(1).build(), null, cancelling, null,
          connections, null);
      try {
        reactor.start();
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", peer.port());
        request.complete(reactor.connect(new HttpHost("127.0.0.1", peer.port()), address, null,
            Timeout.ofSeconds(5), null, null));
        assertThat(Leaks.await(() -> accounting.snapshot().connectionsOpened() == 1,
            Duration.ofSeconds(5))).as("the reactor reported the cancelled request's session up")
            .isTrue();
        assertThat(Leaks.await(() -> inSelect(reactorThread.get()), Duration.ofSeconds(5)))
            .as("the reactor is done with the connect event").isTrue();
        closeChannel(decorated.get()); // the cancelling thread's close, late
        assertThat(accounting.snapshot().open()).as("open before the sweep").isEqualTo(1);
        connections.sweep(); // the cancelling thread's sweep, once its cancel returned
        assertThat(accounting.snapshot().open()).as("open after the sweep").isZero();
      } finally {
        reactor.close(CloseMode.GRACEFUL);
      }
      assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(1);
      assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
      assertThat(connections.tracked()).as("connections tracked").isZero();
      KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /** Whether {@code thread} waits in a selector's select: between events. */
  private static boolean inSelect(Thread thread) {
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (frame.getClassName().equals("sun.nio.ch.SelectorImpl")
          && frame.getMethodName().equals("lockAndDoSelect")) {
        return true;
      }
    }
    return false;
  }

  /** What HttpCore's connect channel does as a cancel closes it: closes the socket itself. */
  private static void closeChannel(IOSession session) {
    try {
      session.channel().close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A session handler that does nothing: the session is no one's. */
  private static final class IdleHandler implements IOEventHandler {
    @Override
    public void connected(IOSession session) {}

    @Override
    public void inputReady(IOSession session, ByteBuffer src) {}

    @Override
    public void outputReady(IOSession session) {}

    @Override
    public void timeout(IOSession session, Timeout timeout) {}

    @Override
    public void exception(IOSession session, Exception cause) {}

    @Override
    public void disconnected(IOSession session) {}
  }

  private static TestClient client(
      CloseStrategy strategy, CloseAccounting accounting, AsyncConnections connections) {
    return new AsyncContractClient(AsyncConfigurer.configure(
        HttpAsyncClients.custom(), strategy, accounting, Flavor.options(), connections).build(),
        accounting::snapshot);
  }
}
