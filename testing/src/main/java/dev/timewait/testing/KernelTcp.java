package dev.timewait.testing;

import dev.timewait.diagnostics.HostPort;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.TcpCounts;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.internal.Preconditions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Assumptions;

/**
 * TIME_WAIT counted from the kernel's own tables, for tests: the client's side of connections to
 * a port (remote port = it) and the server's side (local port = it).
 *
 * <p>Counts that a test asserts come from {@code ss} where it runs: it asks the kernel through
 * netlink ({@code sock_diag}) with the port filter applied in the kernel, and was exact in every
 * read measured here. {@code /proc/net/tcp{,6}} is not a snapshot: the kernel hands it out 4 KiB
 * per read and resumes each read at a saved (hash bucket, offset) position, so while other sockets
 * come and go between two reads it skips or repeats entries. Measured on this project's 2-core
 * machine: 500 server TIME_WAIT sockets read back as 500 to 539 while other connections churned,
 * and a CI run's {@code TcpExt.TW} counter said 500 entered TIME_WAIT (none killed or taken over)
 * while the table showed 487 for five seconds. Where {@code ss} cannot run, the table is read.
 * {@link #clientConnections} (and {@link #client}), which samplers call every few milliseconds,
 * read the table and count each four-tuple once, so that a repeated entry never counts twice.
 *
 * <p>A count of TIME_WAIT that a test made is exact only while the host sent no RST. On loopback
 * under CPU contention, the side that closes second can send its delayed ACK of the peer's FIN
 * after its own FIN; the peer, already in TIME_WAIT, answers it, the closed side answers that with
 * an RST, and Linux ends a TIME_WAIT on an in-window RST ({@code tcp_rfc1337=0}, the default:
 * RFC 1337's "TIME-WAIT assassination"). No TIME_WAIT counter moves; {@code Tcp.OutRsts} does,
 * and no abortive close's counter.
 * Measured on this project's 2-core machine with both cores busy: 39 of 3,000 runs of 30
 * connections left 29 client TIME_WAIT, each with one RST sent, and a capture showed that order
 * ({@code LoopbackRstRace} in the integration tests, docs/reliability.md).
 * A test asserts {@code between(made - strayResetsSince(before), made)} ({@link
 * #strayResetsSince}).
 *
 * <p>Static methods, thread-safe: each reads the kernel afresh (the one thing kept is whether
 * {@code ss} runs here).
 */
public final class KernelTcp {
  /** Servers {@link #startOnFreshPorts} starts at most before it gives up. */
  private static final int FRESH_TRIES = 20;

  private KernelTcp() {}

  /** Skips the calling test, with the reason, where the kernel's tables cannot be read. */
  public static void assumeReadable() {
    Assumptions.assumeTrue(
        TcpTable.system().isSupported(),
        "needs /proc/net/tcp (Linux) to count TIME_WAIT from the kernel's table");
  }

  /**
   * TIME_WAIT sockets on the client side of connections to {@code serverPort}: every socket of
   * the host towards that port, whoever made it, so a test starts its server with {@link
   * #startOnFreshPorts} to count only its own. Where the tables cannot be read (not Linux), the
   * calling test is skipped with the reason ({@link #assumeReadable}): a 0 there would pass an
   * assertion of no TIME_WAIT that nothing checked.
   *
   * @param serverPort the server port
   * @return the client TIME_WAIT count
   */
  public static int clientTimeWait(int serverPort) {
    Preconditions.checkInRange(serverPort, 1, 65535, "serverPort");
    Integer exact = SocketStatistics.timeWait("dport", serverPort);
    if (exact == null) {
      assumeReadable();
    }
    return exact != null
        ? exact
        : TcpTable.system().count(TcpState.TIME_WAIT, TcpFilter.remotePort(serverPort));
  }

  /**
   * TIME_WAIT sockets on the server side of {@code serverPort}; the calling test is skipped where
   * the tables cannot be read, as for {@link #clientTimeWait}.
   *
   * @param serverPort the server port
   * @return the server TIME_WAIT count
   */
  public static int serverTimeWait(int serverPort) {
    Preconditions.checkInRange(serverPort, 1, 65535, "serverPort");
    Integer exact = SocketStatistics.timeWait("sport", serverPort);
    if (exact == null) {
      assumeReadable();
    }
    return exact != null
        ? exact
        : TcpTable.system().count(TcpState.TIME_WAIT, TcpFilter.localPort(serverPort));
  }

  /**
   * How TIME_WAIT on the server side of {@code serverPort} reads each way, for assertion messages:
   * {@code ss} (netlink) and one scan of {@code /proc/net/tcp{,6}}.
   *
   * @param serverPort the server port
   * @return both readings in words
   */
  public static String describeServerTimeWait(int serverPort) {
    return "server TIME_WAIT by ss " + SocketStatistics.timeWait("sport", serverPort)
        + ", by /proc/net/tcp{,6} "
        + TcpTable.system().count(TcpState.TIME_WAIT, TcpFilter.localPort(serverPort));
  }

  /**
   * Whether no socket but a listener uses {@code port} on either side: a server port that another
   * run used within the last minute still has TIME_WAIT sockets on it, which would count as this
   * test's. Where the table cannot be read, every port is fresh.
   *
   * @param port a server port
   * @return whether no socket but a listener uses it
   */
  public static boolean isFresh(int port) {
    TcpTable table = TcpTable.system();
    if (!table.isSupported()) {
      return true;
    }
    // One scan for both sides: the tables are read once, and both counts are of the same read.
    List<TcpCounts> counts = table.count(List.of(TcpFilter.localPort(port), TcpFilter.remotePort(port)));
    TcpCounts local = counts.get(0);
    return local.total() == local.get(TcpState.LISTEN) && counts.get(1).total() == 0;
  }

  /**
   * Starts a server with {@code start} until every one of its {@code ports} is fresh ({@link
   * #isFresh}), stopping with {@code stop} each server that got a used port, at most 20 tries.
   * A closed server's port is free again at once, and {@code bind(0)} hands it to a later server
   * while the TIME_WAIT that clients which closed first left towards it lasts (60 s): a test that
   * counts client TIME_WAIT towards its server's port would count those as its own. The check runs
   * once the server listens, so no other server can take the port after it. Thread-safe if
   * {@code start} and {@code stop} are.
   *
   * <pre>{@code
   * WireMockServer server = KernelTcp.startOnFreshPorts(() -> {
   *   WireMockServer s = new WireMockServer(wireMockConfig().dynamicPort());
   *   s.start();
   *   return s;
   * }, WireMockServer::stop, WireMockServer::port);
   * }</pre>
   *
   * @param <S> the server's type
   * @param start starts a new server on ports the kernel chooses (port 0)
   * @param stop stops a server that {@code start} started
   * @param ports the server's listening ports, one function each (e.g. plain and HTTPS)
   * @return a started server whose every port is fresh
   * @throws IOException if {@code start} or {@code stop} throws it, or 20 servers in a row got a
   *     used port
   */
  @SafeVarargs
  public static <S> S startOnFreshPorts(
      ServerStart<S> start, ServerStop<? super S> stop, ToIntFunction<? super S>... ports)
      throws IOException {
    Preconditions.checkNotNull(start, "start");
    Preconditions.checkNotNull(stop, "stop");
    Preconditions.checkNotNull(ports, "ports");
    Preconditions.checkArgument(ports.length > 0, "ports must name at least one port");
    for (ToIntFunction<? super S> port : ports) {
      Preconditions.checkNotNull(port, "port");
    }
    List<Integer> used = new ArrayList<>();
    for (int attempt = 0; attempt < FRESH_TRIES; attempt++) {
      S server = Preconditions.checkNotNull(start.start(), "the started server");
      List<Integer> stale = new ArrayList<>();
      for (ToIntFunction<? super S> port : ports) {
        int p = port.applyAsInt(server);
        if (!isFresh(p)) {
          stale.add(p);
        }
      }
      if (stale.isEmpty()) {
        return server;
      }
      used.addAll(stale);
      stop.stop(server);
    }
    throw new IOException("no server on fresh ports in " + FRESH_TRIES + " tries; sockets of"
        + " another test or process still used ports " + used);
  }

  /**
   * Starts a server for {@link #startOnFreshPorts}.
   *
   * @param <S> the server's type
   */
  @FunctionalInterface
  public interface ServerStart<S> {
    /**
     * Starts a new server listening on ports the kernel chooses.
     *
     * @return the started server, not null
     * @throws IOException if it cannot start
     */
    S start() throws IOException;
  }

  /**
   * Stops a server for {@link #startOnFreshPorts}.
   *
   * @param <S> the server's type
   */
  @FunctionalInterface
  public interface ServerStop<S> {
    /**
     * Stops {@code server} and frees its ports.
     *
     * @param server a server that a {@link ServerStart} started
     * @throws IOException if it cannot stop
     */
    void stop(S server) throws IOException;
  }

  /**
   * The stray RSTs this host sent since {@code before}: {@code Tcp.OutRsts} less the RSTs of
   * abortive closes ({@code TcpExt.TCPAbortOnData}: {@code SO_LINGER(0)}; {@code
   * TCPAbortOnClose}: closed with unread data), the whole network namespace. An in-window RST ends
   * one TIME_WAIT (the class notes), and on loopback both ends are this host, so this bounds the
   * loopback TIME_WAIT that RSTs ended early since then. A test that made {@code n} asserts a count
   * between {@code n - strayResetsSince(before)} and {@code n}: exact when no stray RST was sent,
   * and a close that resets on purpose (a regression from FIN to RST, say) widens nothing. Where
   * the counters cannot be read, {@link Integer#MAX_VALUE}: nothing bounds the loss.
   *
   * <pre>{@code
   * KernelCounters before = KernelCounters.read();
   * int made = peer.run(30, Duration.ofSeconds(20));
   * assertThat(KernelTcp.clientTimeWait(port))
   *     .isBetween(made - KernelTcp.strayResetsSince(before), made);
   * }</pre>
   *
   * @param before a reading taken before the connections were made
   * @return the stray RSTs sent since {@code before}, at least 0
   */
  public static int strayResetsSince(KernelCounters before) {
    Preconditions.checkNotNull(before, "before");
    KernelCounters delta = KernelCounters.read().minus(before);
    if (delta.outRsts() < 0 || delta.abortOnData() < 0 || delta.abortOnClose() < 0) {
      return Integer.MAX_VALUE;
    }
    long stray = delta.outRsts() - delta.abortOnData() - delta.abortOnClose();
    return (int) Math.min(Math.max(0, stray), Integer.MAX_VALUE);
  }

  /**
   * Both sides of connections to {@code serverPort} by state, for assertion messages.
   *
   * @param serverPort the server port
   * @return the sockets by side and state, in words
   */
  public static String describe(int serverPort) {
    return "client side " + TcpTable.system().count(TcpFilter.remotePort(serverPort))
        + ", server side " + TcpTable.system().count(TcpFilter.localPort(serverPort));
  }

  /**
   * Sockets in {@code state} on the client side of connections to {@code serverPort}, each
   * counted once: the size of {@link #clientConnections}.
   *
   * @param state the TCP state
   * @param serverPort the server port
   * @return the count
   */
  public static int client(TcpState state, int serverPort) {
    return clientConnections(state, serverPort).size();
  }

  /**
   * The distinct client sockets in {@code state} towards {@code serverPort} (remote port = it),
   * from one scan of {@code /proc/net/tcp{,6}}: fast enough to sample every few milliseconds,
   * which a process per read ({@code ss}) is not on a loaded machine (about 300 ms a read).
   *
   * <p>A scan lists one socket more than once while other sockets come and go (the resumed read
   * of {@link KernelTcp}'s notes): measured on the 2-core machine under load, one client socket
   * (same four-tuple and inode, this process's) listed up to three times in one scan, so that 3
   * pooled connections counted as 4 to 11. Each four-tuple here counts once. A scan may still miss
   * a socket, or see both one that closed and one that opened during it: each socket counted was
   * there at some point of the scan. Where the tables cannot be read (not Linux) the calling test
   * is skipped ({@link #assumeReadable}): an empty set there would pass an assertion of no
   * connection that nothing checked. Thread-safe.
   *
   * @param state the TCP state
   * @param serverPort the server port
   * @return the client sockets' four-tuples
   */
  public static Set<Connection> clientConnections(TcpState state, int serverPort) {
    Preconditions.checkNotNull(state, "state");
    Preconditions.checkInRange(serverPort, 1, 65535, "serverPort");
    assumeReadable();
    return TableConnections.read(
        List.of(TcpTable.PROC_NET_TCP, TcpTable.PROC_NET_TCP6), state, serverPort);
  }

  /**
   * One connection as the kernel's table lists it: its local and remote ends (an IPv4-mapped
   * IPv6 address as the IPv4 address it maps). Immutable.
   *
   * @param local the local address and port
   * @param remote the remote address and port
   */
  public record Connection(InetSocketAddress local, InetSocketAddress remote) {
    @Override
    public String toString() {
      return HostPort.of(local) + " -> " + HostPort.of(remote);
    }
  }

  /**
   * Waits, at most {@code bound}, until the server side of {@code serverPort} shows at least
   * {@code atLeast} TIME_WAIT sockets (the last ACK may still be in flight), and returns the count.
   *
   * @param serverPort the server port
   * @param atLeast the count to wait for, 0 or more
   * @param bound the longest to wait, 0 to {@link Leaks#MAX_WAIT}
   * @return the last count read
   * @throws IllegalArgumentException if an argument is out of range
   */
  public static int awaitServerTimeWait(int serverPort, int atLeast, Duration bound) {
    return awaitCount(() -> serverTimeWait(serverPort), atLeast, bound);
  }

  /**
   * Waits, at most {@code bound}, until at least {@code atLeast} client sockets towards {@code
   * serverPort} are in {@code state} ({@link #client}), and returns the count: a test that needs
   * the peer's FIN in the kernel (CLOSE_WAIT) before it goes on, say.
   *
   * @param state the TCP state
   * @param serverPort the server port
   * @param atLeast the count to wait for, 0 or more
   * @param bound the longest to wait, 0 to {@link Leaks#MAX_WAIT}
   * @return the last count read
   * @throws IllegalArgumentException if an argument is out of range
   */
  public static int awaitClient(TcpState state, int serverPort, int atLeast, Duration bound) {
    return awaitCount(() -> client(state, serverPort), atLeast, bound);
  }

  /**
   * Reads {@code count} every 20 ms until it reaches {@code atLeast} or {@code bound} is up. The
   * count checks its own arguments (state, port) on its first read, before any wait.
   */
  private static int awaitCount(IntSupplier count, int atLeast, Duration bound) {
    Preconditions.checkNonNegative(atLeast, "atLeast");
    long deadline = System.nanoTime()
        + Preconditions.checkNonNegative(bound, Leaks.MAX_WAIT, "bound").toNanos();
    int n = count.getAsInt();
    while (n < atLeast && deadline - System.nanoTime() > 0) {
      sleep(20);
      n = count.getAsInt();
    }
    return n;
  }

  /**
   * Waits, at most {@code bound}, until no socket on the client side of connections to
   * {@code serverPort} is in a closing state other than TIME_WAIT (FIN_WAIT, LAST_ACK, CLOSING),
   * so that a later TIME_WAIT count is final. A client socket still in FIN_WAIT or CLOSING when
   * the bound is up fails: the client closed first and becomes TIME_WAIT as soon as the peer
   * closes (a count of 0 then would pass a client that leaves TIME_WAIT). LAST_ACK left over
   * passes: the peer closed first, and it ends without TIME_WAIT.
   *
   * @param serverPort the server port
   * @param bound the longest to wait, 0 to {@link Leaks#MAX_WAIT}
   * @throws IllegalArgumentException if an argument is out of range
   * @throws AssertionError if client sockets are still in FIN_WAIT or CLOSING after {@code bound}
   */
  public static void awaitClientSettled(int serverPort, Duration bound) {
    Preconditions.checkInRange(serverPort, 1, 65535, "serverPort");
    long deadline = System.nanoTime()
        + Preconditions.checkNonNegative(bound, Leaks.MAX_WAIT, "bound").toNanos();
    while (true) {
      var counts = TcpTable.system().count(TcpFilter.remotePort(serverPort));
      int closedFirst = counts.get(TcpState.FIN_WAIT1) + counts.get(TcpState.FIN_WAIT2)
          + counts.get(TcpState.CLOSING);
      if (closedFirst + counts.get(TcpState.LAST_ACK) == 0) {
        return;
      }
      if (deadline - System.nanoTime() <= 0) {
        if (closedFirst > 0) {
          throw new AssertionError(closedFirst + " client socket" + (closedFirst == 1 ? "" : "s")
              + " towards port " + serverPort + " still closing after " + bound.toMillis() + " ms (FIN_WAIT1 "
              + counts.get(TcpState.FIN_WAIT1) + ", FIN_WAIT2 " + counts.get(TcpState.FIN_WAIT2) + ", CLOSING "
              + counts.get(TcpState.CLOSING) + "): the client closed first, and each becomes a client"
              + " TIME_WAIT once the peer closes");
        }
        return;
      }
      sleep(20);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
