package dev.timewait.benchmarks;

import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmarks' server: a minimal HTTP/1.1 server on a raw {@link ServerSocket} on 127.0.0.1,
 * one thread per connection (a cached pool), answering every GET with the same 64-byte body from
 * precomputed bytes. It keeps a connection alive unless the request says {@code Connection: close};
 * then it answers with {@code Connection: close} and closes first once the response is written
 * (so the server keeps the TIME_WAIT, unless the client reset the connection first). It closes when
 * the client does. It parses only what the benchmarks' clients send (GETs without a body), so
 * that the server, not the client, is never the bottleneck. Every instance takes a port that no
 * other socket in the kernel's table uses ({@link #freshServerSocket()}).
 *
 * <p>Thread-safe. Not a general-purpose server.
 */
final class BenchServer implements AutoCloseable {
  /** The response body's length in bytes. */
  static final int BODY_LENGTH = 64;

  private static final byte[] KEEP_ALIVE = response(false);
  private static final byte[] CLOSE = response(true);
  private static final byte[] CONNECTION_CLOSE = "connection: close".getBytes(StandardCharsets.US_ASCII);
  private static final AtomicInteger SERVERS = new AtomicInteger();

  private final ServerSocket serverSocket;
  private final ExecutorService workers;
  private final Thread acceptor;
  private final AtomicInteger accepted = new AtomicInteger();
  /** Raised by {@link #turnOver()}; a connection opened before the raise closes after its next response. */
  private volatile int generation;
  private volatile boolean closed;

  BenchServer() throws IOException {
    serverSocket = freshServerSocket();
    int id = SERVERS.incrementAndGet();
    AtomicInteger threads = new AtomicInteger();
    workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "bench-server-" + id + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    acceptor = new Thread(this::acceptLoop, "bench-server-" + id + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * A listening socket on a port that no other socket in the kernel's table uses ({@link
   * KernelTcp#isFresh}): the kernel hands out recently used port numbers again, and the TIME_WAIT
   * that an earlier round's naive clients left towards the same number would be counted as this
   * round's. Ports found in use stay bound until a fresh one is found, so that the kernel does not
   * offer them again meanwhile.
   */
  private static ServerSocket freshServerSocket() throws IOException {
    List<ServerSocket> taken = new ArrayList<>();
    try {
      for (int attempt = 0; attempt < 50; attempt++) {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        if (KernelTcp.isFresh(socket.getLocalPort())) {
          return socket;
        }
        taken.add(socket);
      }
      throw new IOException("no fresh loopback port in 50 tries");
    } finally {
      for (ServerSocket socket : taken) {
        socket.close();
      }
    }
  }

  int port() {
    return serverSocket.getLocalPort();
  }

  /** How many connections this server has accepted. */
  int accepted() {
    return accepted.get();
  }

  /**
   * Every connection open now answers its next request with {@code Connection: close} and closes
   * first, as a server that limits requests per connection does (nginx's {@code keepalive_requests},
   * 1,000 by default): the clients open new ones. Connections opened afterwards are kept alive.
   */
  void turnOver() {
    generation++; // one caller at a time: the pair runner's thread
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + port() + "/bench");
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = serverSocket.accept();
        accepted.incrementAndGet();
        workers.execute(() -> serve(socket, generation));
      } catch (IOException e) {
        if (closed) {
          return;
        }
      } catch (RuntimeException e) { // rejected after close
        return;
      }
    }
  }

  private void serve(Socket socket, int bornIn) {
    try (socket) {
      socket.setTcpNoDelay(true);
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[8192];
      int filled = 0;
      while (true) {
        int end = headEnd(buffer, filled);
        while (end < 0) {
          if (filled == buffer.length) {
            return; // a head this large is not one of ours
          }
          int n = in.read(buffer, filled, buffer.length - filled);
          if (n < 0) {
            return; // the client closed: close too
          }
          filled += n;
          end = headEnd(buffer, filled);
        }
        boolean close = contains(buffer, end, CONNECTION_CLOSE) || generation != bornIn;
        out.write(close ? CLOSE : KEEP_ALIVE);
        out.flush();
        if (close) {
          return; // closes first
        }
        System.arraycopy(buffer, end, buffer, 0, filled - end);
        filled -= end;
      }
    } catch (SocketException e) {
      // reset by the client: the reset strategy does that on purpose
    } catch (IOException e) {
      // the client went away
    }
  }

  /** The index just after the head's blank line, or -1. */
  private static int headEnd(byte[] b, int len) {
    for (int i = 3; i < len; i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** Whether {@code b[0, len)} contains {@code lowerNeedle}, ignoring ASCII case. */
  private static boolean contains(byte[] b, int len, byte[] lowerNeedle) {
    outer:
    for (int i = 0; i + lowerNeedle.length <= len; i++) {
      for (int j = 0; j < lowerNeedle.length; j++) {
        int c = b[i + j];
        if (c >= 'A' && c <= 'Z') {
          c += 'a' - 'A';
        }
        if (c != lowerNeedle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static byte[] response(boolean close) {
    String body = "x".repeat(BODY_LENGTH - 1) + "\n";
    String head = "HTTP/1.1 200 OK\r\n"
        + "Content-Type: text/plain\r\n"
        + "Content-Length: " + BODY_LENGTH + "\r\n"
        + (close ? "Connection: close\r\n" : "")
        + "\r\n";
    return (head + body).getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() {
    closed = true;
    try {
      serverSocket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    // Connections still open end when their clients close them; the threads are daemons.
    workers.shutdown();
  }
}
