package dev.timewait.junit5;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;
import javax.net.SocketFactory;

/**
 * A minimal HTTP/1.1 client over raw sockets, one request per connection, for the fixtures: the
 * test closes each socket itself, so who closes first is the test's choice, not a library's.
 */
final class RawClient {
  private static final int TIMEOUT_MILLIS = 5_000;

  private RawClient() {}

  /**
   * {@code n} GETs to 127.0.0.1:{@code port}, each on a new plain socket that the client closes
   * as soon as it has read the response: the naive client, which closes first.
   */
  static void closeFirst(int port, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
        exchange(socket, false, s -> {});
      }
    }
  }

  /**
   * {@code n} GETs with {@code Connection: close} through {@code factory}'s sockets; {@code
   * onHead} runs once the response head is read (to arm a server close).
   */
  static void through(SocketFactory factory, int port, int n, Consumer<Socket> onHead) throws IOException {
    for (int i = 0; i < n; i++) {
      try (Socket socket = factory.createSocket(InetAddress.getLoopbackAddress(), port)) {
        exchange(socket, true, onHead);
      }
    }
  }

  /** Writes a GET and reads the whole response (Content-Length or chunked); returns the status. */
  static int exchange(Socket socket, boolean connectionClose, Consumer<Socket> onHead) throws IOException {
    socket.setSoTimeout(TIMEOUT_MILLIS);
    OutputStream out = socket.getOutputStream();
    String request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (connectionClose ? "Connection: close\r\n" : "") + "\r\n";
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = new BufferedInputStream(socket.getInputStream());
    String head = readHead(in);
    onHead.accept(socket);
    int status = Integer.parseInt(head.substring(9, 12));
    String lower = head.toLowerCase(Locale.ROOT);
    int at = lower.indexOf("\r\ncontent-length:");
    if (at >= 0) {
      int end = lower.indexOf("\r\n", at + 2);
      skip(in, Integer.parseInt(lower.substring(at + 17, end).trim()));
    } else if (lower.contains("\r\ntransfer-encoding: chunked")) {
      while (true) {
        int size = Integer.parseInt(readLine(in).split(";")[0].trim(), 16);
        if (size == 0) {
          readLine(in); // the empty line after the last chunk (no trailers expected)
          break;
        }
        skip(in, size);
        readLine(in);
      }
    }
    return status;
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (true) {
      String line = readLine(in);
      head.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
      if (line.isEmpty()) {
        return head.toString(StandardCharsets.US_ASCII);
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("end of stream inside the response");
      }
      if (b == '\n') {
        int len = line.length();
        return len > 0 && line.charAt(len - 1) == '\r' ? line.substring(0, len - 1) : line.toString();
      }
      line.append((char) b);
      if (line.length() > 16 * 1024) {
        throw new IOException("response line too long");
      }
    }
  }

  private static void skip(InputStream in, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      if (in.read() < 0) {
        throw new IOException("end of stream inside the body");
      }
    }
  }
}
