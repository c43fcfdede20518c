package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.spi.CloseOutcome;
import dev.timewait.spi.SocketControl;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CloseListenerTest {
  private static final byte[] RESPONSE =
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
          .getBytes(StandardCharsets.US_ASCII);

  @Test
  void listenerHearsResetCloseWithDestinationStrategyAndLifetime() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset(), accounting);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      exchange(factory, server, 0, false);
    }
    assertThat(events).hasSize(1);
    CloseEvent event = events.get(0);
    assertThat(event.mode()).isEqualTo(CloseEvent.Mode.RESET);
    assertThat(event.reason()).isEqualTo(CloseEvent.Reason.STRATEGY);
    assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.RESET);
    assertThat(event.destination()).matches("(localhost|127\\.0\\.0\\.1):\\d+");
    assertThat(event.lifetimeNanos()).isPositive();
    assertThat(event.finWaitNanos()).isZero();
    assertThat(event.requests()).isEqualTo(-1);
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
  }

  @Test
  void listenerHearsServerCloseFinWaitDuration() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    TimeWaitSocketFactory factory =
        TimeWaitSocketFactory.create(CloseStrategy.serverClose(), accounting);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // The peer closes 300 ms after its response: the client, which arms and closes once it has
      // read it, waits most of that (run first in a cold JVM, its class loading took 35 ms of a
      // 50 ms delay).
      exchange(factory, server, 300, true);
    }
    assertThat(events).hasSize(1);
    CloseEvent event = events.get(0);
    assertThat(event.mode()).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
    assertThat(event.reason()).isEqualTo(CloseEvent.Reason.STRATEGY);
    assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.SERVER_CLOSE);
    assertThat(event.finWait()).isGreaterThanOrEqualTo(java.time.Duration.ofMillis(150));
    assertThat(accounting.snapshot().closedAfterPeerFin()).isEqualTo(1);
  }

  @Test
  void aFinWaitArmedOnceTheClientShutsDownEndsAtOnceWithAReset() throws Exception {
    // The client's shutdown aborts the FIN waits under way; one armed after that (an exchange
    // that ended meanwhile) must not wait out its bound.
    assertFinWaitEndsAtOnce(factory -> socket -> SocketControl.clientShuttingDown(factory), null);
  }

  @Test
  void aSocketArmedWithAnAbortThatHoldsResetsAtOnceWithoutWaitingForTheFin() throws Exception {
    // OkHttp arms with its call's cancelled flag: a cancel that closes the socket from the
    // cancelling thread just after the arm must not wait for the server's FIN there.
    TimeWaitSocketFactory factory = assertFinWaitEndsAtOnce(factory1 -> socket -> { }, () -> true);
    assertThatThrownBy(() -> SocketControl.arm(factory, new Socket(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("abortWhen cannot be null");
  }

  /**
   * One exchange whose FIN wait (10 s bound; the peer closes after 3 s) must end at once with an
   * RST, a FIN-wait abort; {@code asRequestGoesOut} is made for the factory.
   */
  private static TimeWaitSocketFactory assertFinWaitEndsAtOnce(
      java.util.function.Function<TimeWaitSocketFactory, java.util.function.Consumer<Socket>> asRequestGoesOut,
      java.util.function.BooleanSupplier abortWhen) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(
        ServerClose.builder().finWait(java.time.Duration.ofSeconds(10)).build(), accounting);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      exchange(factory, server, 3000, true, asRequestGoesOut.apply(factory), abortWhen);
    }
    assertThat(events).hasSize(1);
    CloseEvent event = events.get(0);
    assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
    assertThat(event.finWait()).as("%s", event).isLessThan(java.time.Duration.ofSeconds(1));
    assertThat(accounting.snapshot().finWaitAborts()).isEqualTo(1);
    return factory;
  }

  @Test
  void aPooledSocketsCloseCarriesTheRequestsAndTheFirstReasonItsAdapterGave() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    TimeWaitSocketFactory factory =
        TimeWaitSocketFactory.create(PooledKeepAlive.builder().build(), accounting);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      exchange(factory, server, 0, false, socket -> {
        assertThat(SocketControl.noteRequest(factory, socket, 3)).isNotNegative();
        assertThat(SocketControl.retire(factory, socket, CloseEvent.Reason.REQUEST_CAP)).isTrue();
        assertThat(SocketControl.retire(factory, socket, CloseEvent.Reason.PEER_ANNOUNCED))
            .as("the first reason stands").isFalse();
      });
    }
    assertThat(events).hasSize(1);
    CloseEvent event = events.get(0);
    assertThat(event.reason()).isEqualTo(CloseEvent.Reason.REQUEST_CAP);
    assertThat(event.requests()).isEqualTo(3);
    assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.POOLED);
    assertThat(event.mode()).isEqualTo(CloseEvent.Mode.RESET);
  }

  @Test
  void aPooledSocketClosedIdleWithoutAReasonIsAnIdleEvictionAndOnceTheClientShutsDownAShutdown()
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    TimeWaitSocketFactory factory =
        TimeWaitSocketFactory.create(PooledKeepAlive.builder().build(), accounting);
    try (ServerSocket server = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
      exchange(factory, server, 0, false, socket -> SocketControl.noteRequest(factory, socket, 1));
      SocketControl.clientShuttingDown(factory);
      exchange(factory, server, 0, false, socket -> SocketControl.noteRequest(factory, socket, 1));
    }
    assertThat(events).extracting(CloseEvent::reason)
        .containsExactly(CloseEvent.Reason.IDLE_EVICTION, CloseEvent.Reason.SHUTDOWN);
    assertThat(events).extracting(CloseEvent::requests).containsExactly(1L, 1L);
  }

  @Test
  void anAdapterRecordsEverythingItKnowsOfAClose() {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    long now = System.nanoTime();
    CloseOutcome.AFTER_PEER_FIN.recordOn(accounting, CloseEvent.Reason.LIFETIME,
        new java.net.InetSocketAddress("127.0.0.1", 8080), CloseStrategy.Kind.POOLED, 7,
        now - 5_000_000, now - 1_000_000);
    CloseOutcome.FIN_WAIT_TIMEOUT.recordOn(accounting, CloseEvent.Reason.UNKNOWN, null, null, -1,
        CloseOutcome.NO_TIME, CloseOutcome.NO_TIME);
    CloseEvent event = events.get(0);
    assertThat(event.destination()).isEqualTo("127.0.0.1:8080");
    assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.POOLED);
    assertThat(event.reason()).isEqualTo(CloseEvent.Reason.LIFETIME);
    assertThat(event.requests()).isEqualTo(7);
    assertThat(event.lifetimeNanos()).isGreaterThanOrEqualTo(5_000_000);
    assertThat(event.finWaitNanos()).isBetween(1_000_000L, event.lifetimeNanos());
    assertThat(events.get(1).reason()).isEqualTo(CloseEvent.Reason.FIN_WAIT_TIMEOUT);
    assertThat(events.get(1).lifetimeNanos()).isEqualTo(-1);
    assertThat(events.get(1).finWaitNanos()).isZero();
  }

  @Test
  void anIpv6DestinationIsWrittenInItsOneTextForm() throws Exception {
    // A socket's IPv6 peer as the JDK gives it writes itself 0:0:0:0:0:0:0:1; the destination a
    // user names for metrics writes [::1]: one form (RFC 5952), so that both are one tag.
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    java.net.InetSocketAddress peer =
        new java.net.InetSocketAddress(java.net.InetAddress.getByName("0:0:0:0:0:0:0:1"), 8443);
    CloseOutcome.RESET.recordOn(accounting, CloseEvent.Reason.STRATEGY, peer,
        CloseStrategy.Kind.RESET, 1, CloseOutcome.NO_TIME, CloseOutcome.NO_TIME);
    assertThat(events.get(0).destination()).isEqualTo("[::1]:8443");
  }

  @Test
  void adapterOutcomeWithoutReasonIsHeardAsUnknownUnlessTheOutcomeTellsIt() {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    CloseOutcome.AFTER_PEER_FIN.recordOn(accounting);
    CloseOutcome.FIN_WAIT_TIMEOUT.recordOn(accounting);
    CloseOutcome.FIN_WAIT_ABORTED.recordOn(accounting);
    CloseOutcome.RESET.recordOn(accounting, CloseEvent.Reason.IDLE_EVICTION);
    assertThat(events).extracting(CloseEvent::reason).containsExactly(
        CloseEvent.Reason.UNKNOWN, CloseEvent.Reason.FIN_WAIT_TIMEOUT,
        CloseEvent.Reason.EXCHANGE_ABORTED, CloseEvent.Reason.IDLE_EVICTION);
    assertThat(events).extracting(CloseEvent::mode).containsExactly(CloseEvent.Mode.AFTER_PEER_FIN,
        CloseEvent.Mode.RESET, CloseEvent.Mode.RESET, CloseEvent.Mode.RESET);
    assertThat(events.get(0).destination()).isNull();
    assertThat(events.get(0).lifetimeNanos()).isEqualTo(-1);
  }

  @Test
  void throwingListenerNeverBreaksCloseNorOtherListeners() {
    assertAThrowingListenerBreaksNeitherTheCloseNorTheListenersAfterIt(e -> {
      throw new IllegalStateException("listener bug");
    });
  }

  @Test
  void aListenerThrowingACheckedExceptionNeverBreaksCloseNorOtherListeners() {
    // A Kotlin listener, or a Java one with Lombok's @SneakyThrows, can throw an IOException that
    // Java does not declare: it escaped the close's accounting (out of Socket.close()), and the
    // listeners after it heard nothing.
    assertAThrowingListenerBreaksNeitherTheCloseNorTheListenersAfterIt(e -> CloseListenerTest.<RuntimeException>sneakyThrow(
        new java.io.IOException("a listener's undeclared checked exception")));
  }

  private static void assertAThrowingListenerBreaksNeitherTheCloseNorTheListenersAfterIt(CloseListener throwing) {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    accounting.addListener(throwing);
    accounting.addListener(events::add);
    CloseOutcome.RESET.recordOn(accounting);
    CloseOutcome.RESET.recordOn(accounting);
    assertThat(events).hasSize(2);
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(2);
  }

  @Test
  void aListenerInterruptedInsideKeepsTheThreadsInterruptFlag() {
    // A Kotlin listener's queue.put() on an interrupted thread (a close interrupted in its FIN
    // wait keeps the flag on purpose): the JDK clears the flag as it throws; caught here, it
    // would be lost.
    CloseAccounting accounting = new CloseAccounting();
    accounting.addListener(e -> CloseListenerTest.<RuntimeException>sneakyThrow(new InterruptedException()));
    try {
      CloseOutcome.RESET.recordOn(accounting);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
  }

  /** Throws {@code t} whatever its type, as Kotlin code may: the compiler sees a T. */
  @SuppressWarnings("unchecked")
  static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
    throw (T) t;
  }

  @Test
  void eachFailingListenerIsLoggedAtWarnOnceNotEveryCloseAndNotOnlyTheFirstListener() {
    CloseAccounting accounting = new CloseAccounting();
    accounting.addListener(failing("first-broken-listener"));
    accounting.addListener(failing("second-broken-listener"));
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    // slf4j-simple (the tests' binding) writes to System.err as it finds it at each line.
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 3; i++) {
        CloseOutcome.RESET.recordOn(accounting);
      }
    } finally {
      System.setErr(err);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(3);
    for (String name : List.of("first-broken-listener", "second-broken-listener")) {
      assertThat(log.split("WARN.*A CloseListener \\(" + name + "\\) threw", -1))
          .as("WARN lines for %s in:%n%s", name, log).hasSize(2);
    }
  }

  private static CloseListener failing(String name) {
    return new CloseListener() {
      @Override
      public void closed(CloseEvent event) {
        throw new IllegalStateException(name + " bug");
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }

  @Test
  void aRemovedListenerThatThrewIsNoLongerHeld() throws Exception {
    // A listener per test or per tenant, added and removed on a long-lived accounting: one that
    // threw was kept (to warn once) after its removal, with all it captured.
    CloseAccounting accounting = new CloseAccounting();
    CloseListener listener = failing("removed-broken-listener");
    java.lang.ref.WeakReference<CloseListener> held = new java.lang.ref.WeakReference<>(listener);
    accounting.addListener(listener);
    CloseOutcome.RESET.recordOn(accounting);
    assertThat(accounting.removeListener(listener)).isTrue();
    listener = null;
    assertThat(dev.timewait.testsupport.Collected.await(held)).as("the removed listener, collected").isTrue();
  }

  @Test
  void removedListenerHearsNothingMore() {
    CloseAccounting accounting = new CloseAccounting();
    List<CloseEvent> events = new CopyOnWriteArrayList<>();
    CloseListener listener = events::add;
    accounting.addListener(listener);
    CloseOutcome.RESET.recordOn(accounting);
    assertThat(accounting.removeListener(listener)).isTrue();
    assertThat(accounting.removeListener(listener)).isFalse();
    CloseOutcome.RESET.recordOn(accounting);
    assertThat(events).hasSize(1);
  }

  @Test
  void nullListenerAndReasonAreRejectedByName() {
    CloseAccounting accounting = new CloseAccounting();
    assertThatThrownBy(() -> accounting.addListener(null))
        .isInstanceOf(NullPointerException.class).hasMessage("listener cannot be null");
    assertThatThrownBy(() -> CloseOutcome.RESET.recordOn(accounting, null))
        .isInstanceOf(NullPointerException.class).hasMessage("reason cannot be null");
  }

  /**
   * The recording path allocates nothing while nobody listens: measured as the thread's allocated
   * bytes over many closes, compared with the same closes heard by a listener (which builds one
   * CloseEvent each). Not timed; the threshold is far from both sides.
   */
  @Test
  void recordingCloseAllocatesNothingWithoutListenerAndAnEventWithOne() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    CloseAccounting quiet = new CloseAccounting();
    CloseAccounting heard = new CloseAccounting();
    // The event escapes (as any real listener's does), so the JIT cannot scalar-replace it.
    java.util.concurrent.atomic.AtomicReference<CloseEvent> last =
        new java.util.concurrent.atomic.AtomicReference<>();
    heard.addListener(last::set);
    int closes = 200_000;
    for (int round = 0; round < 3; round++) { // warm up: JIT, LongAdder cells
      recordMany(quiet, closes);
      recordMany(heard, closes);
    }
    long without = allocated(threads, () -> recordMany(quiet, closes));
    long with = allocated(threads, () -> recordMany(heard, closes));
    System.out.printf("allocated over %d closes: without listener %d B, with listener %d B%n",
        closes, without, with);
    assertThat(without).isLessThan(closes / 10); // < 0.1 B per close: nothing per close
    assertThat(with).isGreaterThan(closes * 16L); // a CloseEvent per close
  }

  private static void recordMany(CloseAccounting accounting, int n) {
    for (int i = 0; i < n; i++) {
      CloseOutcome.AFTER_PEER_FIN.recordOn(accounting, CloseEvent.Reason.REQUEST_CAP);
    }
  }

  private static long allocated(com.sun.management.ThreadMXBean threads, Runnable work) {
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    work.run();
    return threads.getThreadAllocatedBytes(id) - before;
  }

  /**
   * One request through {@code factory} to {@code server}, which answers and closes after {@code
   * serverCloseDelayMs}; the client arms a server close when {@code arm}, then closes.
   */
  static void exchange(TimeWaitSocketFactory factory, ServerSocket server, long serverCloseDelayMs,
      boolean arm) throws Exception {
    exchange(factory, server, serverCloseDelayMs, arm, socket -> { });
  }

  /** {@link #exchange}, with what an adapter does as the request goes out. */
  static void exchange(TimeWaitSocketFactory factory, ServerSocket server, long serverCloseDelayMs,
      boolean arm, java.util.function.Consumer<Socket> asRequestGoesOut) throws Exception {
    exchange(factory, server, serverCloseDelayMs, arm, asRequestGoesOut, null);
  }

  /** {@link #exchange}, armed with {@code abortWhen} polled during the FIN wait where not null. */
  static void exchange(TimeWaitSocketFactory factory, ServerSocket server, long serverCloseDelayMs,
      boolean arm, java.util.function.Consumer<Socket> asRequestGoesOut,
      java.util.function.BooleanSupplier abortWhen) throws Exception {
    Thread peer = new Thread(() -> {
      try (Socket s = server.accept()) {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[1024];
        int n = 0;
        while (n < 4 || !new String(buf, 0, n, StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
          int r = in.read(buf, n, buf.length - n);
          if (r < 0) {
            return;
          }
          n += r;
        }
        OutputStream out = s.getOutputStream();
        out.write(RESPONSE);
        out.flush();
        Thread.sleep(serverCloseDelayMs);
      } catch (IOException | InterruptedException e) {
        // the test's asserts tell
      }
    });
    peer.start();
    try (Socket socket = factory.createSocket()) {
      socket.connect(server.getLocalSocketAddress(), 2000);
      socket.setSoTimeout(5000);
      asRequestGoesOut.accept(socket);
      socket.getOutputStream().write(
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      int read = 0;
      byte[] buf = new byte[RESPONSE.length];
      while (read < RESPONSE.length) {
        int r = in.read(buf, read, buf.length - read);
        if (r < 0) {
          break;
        }
        read += r;
      }
      if (arm) {
        assertThat(abortWhen == null ? SocketControl.arm(factory, socket)
            : SocketControl.arm(factory, socket, abortWhen)).isTrue();
      }
    }
    peer.join(TimeUnit.SECONDS.toMillis(5));
  }
}
