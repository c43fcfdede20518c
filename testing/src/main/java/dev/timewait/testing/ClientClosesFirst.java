package dev.timewait.testing;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.internal.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes client-side TIME_WAIT on loopback, fast: raw {@link ServerSocket}s on 127.0.0.1, each
 * with an acceptor thread that reads every accepted connection to EOF and then closes it, and a
 * client loop that connects, sends its FIN at once ({@code shutdownOutput()}), waits for the
 * server's FIN and closes: the client always closes first and keeps the TIME_WAIT, one per
 * four-tuple ({@link #distinctTuples}), unless a stray RST from the host ended one early (the notes of
 * {@link KernelTcp}; {@link #leastTimeWait} bounds it). Each listening port is its own
 * destination, with its own budget of ephemeral ports, so spreading over several ports makes more
 * TIME_WAIT than one port's range holds.
 *
 * <pre>{@code
 * try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
 *   int made = peer.run(300, Duration.ofSeconds(20));
 *   int port = peer.ports().get(0);
 *   KernelTcp.awaitClientSettled(port, Duration.ofSeconds(5));
 *   assertThat(KernelTcp.clientTimeWait(port))
 *       .isBetween(peer.leastTimeWait(port), peer.distinctTuples(port));
 * }
 * }</pre>
 *
 * <p>For tests and benchmarks. Thread-safe: runs called from several threads take turns (a run
 * clears what the one before it recorded), and the counts read after a run are of the last run
 * to end.
 */
public final class ClientClosesFirst implements AutoCloseable {
  private static final int BACKLOG = 4096;
  private static final int READ_TIMEOUT_MILLIS = 5_000;
  private static final AtomicInteger IDS = new AtomicInteger();

  private final java.util.Set<String> clientPorts = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** The counters when the last {@link #run} began; null before the first. */
  private volatile KernelCounters atRun;
  private final List<ServerSocket> servers = new ArrayList<>();
  private final List<Thread> acceptors = new ArrayList<>();
  private final InetAddress loopback = LoopbackServer.IPV4_LOOPBACK;

  private ClientClosesFirst() {}

  /**
   * Listens on {@code ports} fresh ports of 127.0.0.1 ({@link KernelTcp#startOnFreshPorts}): no
   * TIME_WAIT that an earlier user of a port left counts as this peer's.
   *
   * @param ports how many ports to listen on
   * @return the started servers
   * @throws IOException if no fresh port can be bound
   */
  public static ClientClosesFirst start(int ports) throws IOException {
    Preconditions.checkPositive(ports, "ports");
    ClientClosesFirst peer = new ClientClosesFirst();
    try {
      for (int i = 0; i < ports; i++) {
        ServerSocket server = KernelTcp.startOnFreshPorts(
            () -> new ServerSocket(0, BACKLOG, peer.loopback), ServerSocket::close,
            ServerSocket::getLocalPort);
        peer.servers.add(server);
        Thread t = new Thread(() -> acceptLoop(server),
            "client-closes-first-" + IDS.incrementAndGet() + "-" + server.getLocalPort());
        t.setDaemon(true);
        peer.acceptors.add(t);
        t.start();
      }
    } catch (IOException | RuntimeException e) {
      peer.close();
      throw e;
    }
    return peer;
  }

  private static void acceptLoop(ServerSocket server) {
    byte[] buffer = new byte[64];
    while (!server.isClosed()) {
      try (Socket s = server.accept()) {
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        InputStream in = s.getInputStream();
        while (in.read(buffer) >= 0) {
          // drain to the client's FIN
        }
      } catch (SocketException e) {
        if (server.isClosed()) {
          return;
        }
      } catch (IOException e) {
        // a slow client: its socket is closed by the try, and the loop goes on
      }
    }
  }

  /**
   * The listening ports, in order.
   *
   * @return the listening ports
   */
  public List<Integer> ports() {
    List<Integer> ports = new ArrayList<>();
    for (ServerSocket s : servers) {
      ports.add(s.getLocalPort());
    }
    return ports;
  }

  /**
   * The destination 127.0.0.1:port of listening port {@code index}.
   *
   * @param index the listening port's index, from 0
   * @return its destination
   */
  public InetSocketAddress destination(int index) {
    return new InetSocketAddress(loopback, servers.get(index).getLocalPort());
  }

  /**
   * Opens and at once closes up to {@code connections} connections, spread evenly over the
   * ports with one client thread per port, stopping at {@code bound}. Returns how many were made.
   *
   * @param connections the most connections to make, more than 0
   * @param bound the longest the run may take, 0 to {@link Leaks#MAX_WAIT}
   * @return how many connections were made
   * @throws InterruptedException if interrupted while waiting for the client threads
   * @throws IllegalArgumentException if an argument is out of range
   */
  public synchronized int run(int connections, Duration bound) throws InterruptedException {
    Preconditions.checkPositive(connections, "connections");
    Preconditions.checkNonNegative(bound, Leaks.MAX_WAIT, "bound");
    clientPorts.clear();
    atRun = KernelCounters.read();
    long deadline = System.nanoTime() + bound.toNanos();
    AtomicInteger made = new AtomicInteger();
    List<Thread> clients = new ArrayList<>();
    int n = servers.size();
    for (int i = 0; i < n; i++) {
      int port = servers.get(i).getLocalPort();
      int share = connections / n + (i < connections % n ? 1 : 0);
      Thread t = new Thread(() -> {
        for (int k = 0; k < share && deadline - System.nanoTime() > 0; k++) {
          try (Socket c = new Socket()) {
            // Bounded like the reads: a SYN the listener's full backlog drops is retried for
            // about two minutes (tcp_syn_retries), past the run's bound.
            c.connect(new InetSocketAddress(loopback, port), READ_TIMEOUT_MILLIS);
            clientPorts.add(c.getLocalPort() + ":" + port);
            // The client's FIN goes first; then wait for the server's FIN before close(), so the
            // socket is already in TIME_WAIT when its descriptor closes. Closing at once after
            // connect() instead lets a few connections in a few hundred end in an RST (a
            // segment hitting the listener after the server's socket is gone), which kills the
            // client's TIME_WAIT and makes counts inexact.
            c.shutdownOutput();
            c.setSoTimeout(READ_TIMEOUT_MILLIS);
            InputStream in = c.getInputStream();
            while (in.read() >= 0) {
              // the server sends nothing; -1 is its FIN
            }
            made.incrementAndGet();
          } catch (IOException e) {
            return; // e.g. the port range is exhausted: report what was made
          }
        }
      }, "client-closes-first-client-" + port);
      t.setDaemon(true); // one still in a bounded connect or read after run() returns keeps no JVM up
      clients.add(t);
      t.start();
    }
    for (Thread t : clients) {
      t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000 + 1_000));
    }
    return made.get();
  }

  /**
   * The distinct 4-tuples the last {@link #run} connected from, towards {@code serverPort}: the
   * most client TIME_WAIT it leaves ({@link #leastTimeWait} the fewest). TIME_WAIT is per tuple,
   * and on loopback (tcp_tw_reuse=2) connect() may hand out a port whose TIME_WAIT is over 1 s
   * old: the new connection takes it over.
   *
   * @param serverPort one of the listening ports
   * @return how many distinct (client port, server port) tuples connected to it
   */
  public int distinctTuples(int serverPort) {
    String suffix = ":" + serverPort;
    return (int) clientPorts.stream().filter(t -> t.endsWith(suffix)).count();
  }

  /**
   * The fewest client TIME_WAIT the last {@link #run} can have left towards {@code serverPort}:
   * {@link #distinctTuples} less the stray RSTs the host sent since that run began ({@link
   * KernelTcp#strayResetsSince}), at least 0. Equal to {@link #distinctTuples} when none was sent.
   * Read it after the count it bounds; it may be read after {@link #close}.
   *
   * @param serverPort one of the listening ports
   * @return the fewest client TIME_WAIT towards it
   */
  public int leastTimeWait(int serverPort) {
    KernelCounters since = atRun;
    if (since == null) {
      return 0; // no run yet: no tuples
    }
    return Math.max(0, distinctTuples(serverPort) - KernelTcp.strayResetsSince(since));
  }

  /** Closes the listening sockets and waits (bounded) for the acceptor threads to end. */
  @Override
  public void close() {
    for (ServerSocket s : servers) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    for (Thread t : acceptors) {
      try {
        t.join(READ_TIMEOUT_MILLIS + 1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
