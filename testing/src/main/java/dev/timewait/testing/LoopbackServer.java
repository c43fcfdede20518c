package dev.timewait.testing;

import dev.timewait.internal.Preconditions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * A server on a loopback port the kernel chooses that hands each accepted connection to {@code
 * serve} on a daemon thread of its own: the frame of a test peer of your own (a proxy, an upgrade
 * peer) that speaks a protocol on a raw socket. {@code serve} owns the socket (close it). Start it
 * through {@link KernelTcp#startOnFreshPorts} where a test counts TIME_WAIT towards its port.
 * {@link #close()} stops accepting and interrupts the connections' threads; a socket timeout of
 * {@code serve}'s own bounds each read. Thread-safe.
 */
public final class LoopbackServer implements AutoCloseable {
  /** What the server does with each accepted connection. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Serves one connection, on a thread of its own; closes {@code socket} when done.
     *
     * @param socket the accepted connection
     */
    void serve(Socket socket);
  }

  /**
   * 127.0.0.1, where the kit's peers listen and its contracts connect: not {@code
   * InetAddress.getLoopbackAddress()}, which is ::1 in a JVM run with {@code
   * -Djava.net.preferIPv6Addresses=true} (or {@code =system}), where a peer on it refused every
   * contract's {@code http://127.0.0.1:port}.
   */
  static final InetAddress IPV4_LOOPBACK = ipv4Loopback();

  private final ServerSocket listener;
  private final ExecutorService threads;

  /**
   * Starts listening and accepting.
   *
   * @param threadName the name of the accepting and serving threads
   * @param handler serves each accepted connection
   * @throws IOException if the port cannot be bound
   */
  public LoopbackServer(String threadName, Handler handler) throws IOException {
    Preconditions.checkNotNull(threadName, "threadName");
    Preconditions.checkNotNull(handler, "handler");
    listener = new ServerSocket(0, 50, IPV4_LOOPBACK); // after the checks: a bad argument binds nothing
    threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    threads.execute(() -> {
      while (!listener.isClosed()) {
        Socket socket;
        try {
          socket = listener.accept();
        } catch (IOException e) {
          return; // closed
        }
        try {
          threads.execute(() -> handler.serve(socket));
        } catch (RejectedExecutionException closing) {
          closeQuietly(socket);
          return;
        }
      }
    });
  }

  /** {@return the port it listens on} */
  public int port() {
    return listener.getLocalPort();
  }

  /**
   * Runs {@code task} on one of the server's daemon threads (the other direction of a relay).
   *
   * @param task what to run
   * @return its future
   */
  public java.util.concurrent.Future<?> submit(Runnable task) {
    return threads.submit(Preconditions.checkNotNull(task, "task"));
  }

  @Override
  public void close() throws IOException {
    listener.close();
    threads.shutdownNow();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closed already
    }
  }

  private static InetAddress ipv4Loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (java.net.UnknownHostException impossible) {
      throw new IllegalStateException(impossible); // four bytes are a valid IPv4 address
    }
  }
}
