package dev.timewait.httpclient5;

import dev.timewait.testing.LoopbackServer;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP proxy that only tunnels ({@code CONNECT host:port}, to that port on loopback), and passes
 * each side's end of stream on to the other (a half-close), so that whoever ends a tunnelled
 * connection first ends it for both. Test scope; every read bounded by a socket timeout.
 */
final class ConnectProxy implements AutoCloseable {
  private static final int TIMEOUT_MILLIS = 30_000;

  private final AtomicInteger tunnels = new AtomicInteger();
  private final LoopbackServer server = new LoopbackServer("connect-proxy", this::serve);

  ConnectProxy() throws IOException {}

  int port() {
    return server.port();
  }

  /** {@return the tunnels opened so far} */
  int tunnels() {
    return tunnels.get();
  }

  private void serve(Socket client) {
    try (client) {
      client.setSoTimeout(TIMEOUT_MILLIS);
      InputStream in = client.getInputStream();
      String head = RawHttpPeer.readRequestHead(in);
      if (head == null || !head.startsWith("CONNECT ")) {
        return;
      }
      String authority = head.substring(8, head.indexOf(' ', 8));
      int port = Integer.parseInt(authority.substring(authority.lastIndexOf(':') + 1));
      try (Socket target = new Socket(InetAddress.getLoopbackAddress(), port)) {
        target.setSoTimeout(TIMEOUT_MILLIS);
        OutputStream out = client.getOutputStream();
        out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        tunnels.incrementAndGet();
        java.util.concurrent.Future<?> up = server.submit(() -> relay(in, target));
        relay(target.getInputStream(), client);
        up.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      }
    } catch (Exception e) {
      // either side went away (a reset, a timeout): closing both ends the tunnel
    }
  }

  /** Copies to {@code to} until {@code from} ends, then half-closes {@code to}. */
  private static void relay(InputStream from, Socket to) {
    byte[] buffer = new byte[8192];
    try {
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = from.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      try {
        to.close(); // a reset or timeout on one side ends the other
      } catch (IOException ignored) {
        // closed already
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
