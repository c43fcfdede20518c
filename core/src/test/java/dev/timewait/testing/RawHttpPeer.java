package dev.timewait.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLServerSocket;

/**
 * A raw HTTP/1.1 peer on a loopback {@link ServerSocket}, plain or TLS, whose closing behaviour a
 * test chooses: the real sockets the socket-layer and fault tests run against. It answers every
 * request with {@code 200} and a small body, and never waits unboundedly.
 */
public final class RawHttpPeer implements AutoCloseable {

  /** What the peer does after it has written a response. */
  public enum Behaviour {
    /** Close at once: the server closes first and keeps the TIME_WAIT. */
    CLOSE_AFTER_RESPONSE,
    /** Keep reading requests until the client closes, then close: the client closes first. */
    AWAIT_CLIENT_CLOSE,
    /** Close {@link RawHttpPeer#lateCloseDelay} after the response. */
    CLOSE_LATE,
    /** Never close; hold the connection until the client goes away or the peer stops. */
    NEVER_CLOSE
  }

  private static final Duration HOLD_BOUND = Duration.ofSeconds(30);
  private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);

  private final ServerSocket server;
  private final Behaviour behaviour;
  private final Duration lateCloseDelay;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "raw-http-peer");
    t.setDaemon(true);
    return t;
  });
  private final Set<Socket> live = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private volatile boolean stopped;

  private RawHttpPeer(ServerSocket server, Behaviour behaviour, Duration lateCloseDelay) {
    this.server = server;
    this.behaviour = behaviour;
    this.lateCloseDelay = lateCloseDelay;
    pool.execute(this::acceptLoop);
  }

  /** A plain peer on a free loopback port. */
  public static RawHttpPeer start(Behaviour behaviour) throws IOException {
    return start(behaviour, Duration.ZERO, false);
  }

  /** A peer on a free loopback port, TLS with {@link TestTls} if {@code tls}. */
  public static RawHttpPeer start(Behaviour behaviour, Duration lateCloseDelay, boolean tls)
      throws IOException {
    ServerSocket server;
    if (tls) {
      server = TestTls.get().serverContext().getServerSocketFactory().createServerSocket();
      ((SSLServerSocket) server).setUseClientMode(false);
    } else {
      server = new ServerSocket();
    }
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
    return new RawHttpPeer(server, behaviour, lateCloseDelay);
  }

  public int port() {
    return server.getLocalPort();
  }

  public int accepted() {
    return accepted.get();
  }

  public int requests() {
    return requests.get();
  }

  private void acceptLoop() {
    while (!stopped) {
      try {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        live.add(socket);
        pool.execute(() -> serve(socket));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      socket.setSoTimeout((int) HOLD_BOUND.toMillis());
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      boolean keepAlive = behaviour == Behaviour.AWAIT_CLIENT_CLOSE || behaviour == Behaviour.NEVER_CLOSE;
      while (readRequest(in)) {
        requests.incrementAndGet();
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + BODY.length
            + "\r\nConnection: " + (keepAlive ? "keep-alive" : "close") + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(BODY);
        out.flush();
        if (behaviour == Behaviour.CLOSE_AFTER_RESPONSE) {
          return;
        }
        if (behaviour == Behaviour.CLOSE_LATE) {
          Thread.sleep(lateCloseDelay.toMillis());
          return;
        }
      }
    } catch (SocketTimeoutException e) {
      // held for the whole bound: give up
    } catch (IOException e) {
      // the client reset or went away: that is what some tests do
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      live.remove(socket);
    }
  }

  /** Reads one request head; false at end of stream. Request bodies are not expected. */
  private static boolean readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        return false;
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
      if (head.size() > 64 * 1024) {
        throw new IOException("request head too large");
      }
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    stopped = true;
    server.close();
    for (Socket s : live) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    pool.shutdownNow();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
