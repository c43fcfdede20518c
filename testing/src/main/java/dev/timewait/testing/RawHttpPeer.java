package dev.timewait.testing;

import dev.timewait.internal.Preconditions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLSocket;

/**
 * A raw HTTP/1.1 peer on a loopback {@link ServerSocket}, plain or TLS, whose closing behaviour a
 * test chooses: the real sockets the socket-layer and fault tests run against. It answers every
 * request with {@code 200} and a small body, and never waits unboundedly.
 *
 * <p>Thread-safe: it serves each connection on a thread of its own, its counts may be read from
 * any thread, and {@link #close()} from any thread ends every connection, one accepted as it
 * closes included.
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
    /**
     * Answer {@code Connection: close}, then reset {@link RawHttpPeer#lateCloseDelay} after the
     * response (SO_LINGER 0, no TLS close_notify), as a server or balancer that ends connections
     * with an RST does (HAProxy's {@code option nolinger}).
     */
    RESET_LATE,
    /** Never close; hold the connection until the client goes away or the peer stops. */
    NEVER_CLOSE,
    /**
     * A well-behaved HTTP/1.1 server: keep the connection alive, unless the request says
     * {@code Connection: close}; then answer {@code Connection: close} and close first.
     */
    KEEP_ALIVE,
    /**
     * A server that ignores a request's {@code Connection: close}: it answers without a
     * {@code Connection} header (keep-alive in HTTP/1.1) and never closes the connection itself.
     */
    IGNORE_CONNECTION_CLOSE,
    /**
     * Announce a {@link RawHttpPeer#FAULT_BODY_LENGTH}-byte body, send half of it, then reset the
     * connection (SO_LINGER 0).
     */
    RESET_MID_BODY,
    /**
     * Announce a {@link RawHttpPeer#FAULT_BODY_LENGTH}-byte body, send half of it, then close
     * normally (FIN): a truncated response.
     */
    TRUNCATED_BODY,
    /**
     * Announce a {@link RawHttpPeer#FAULT_BODY_LENGTH}-byte body, send half of it, then hold the
     * connection without sending more until the client goes away or the peer stops: a stalled
     * response to cancel or time out.
     */
    STALL_MID_BODY,
    /**
     * An HTTP/1.1 server with an idle timeout that it does not announce: it keeps the connection
     * alive and closes it first (FIN) once it has waited {@link RawHttpPeer#lateCloseDelay} for
     * the next request, as nginx, HAProxy and cloud load balancers do.
     */
    IDLE_CLOSE,
    /**
     * Like {@link #IDLE_CLOSE}, but every response announces the idle timeout, rounded up to whole
     * seconds, in {@code Keep-Alive: timeout=N} (as Node.js and Apache httpd do).
     */
    ANNOUNCED_IDLE_CLOSE,
    /**
     * Like {@link #IDLE_CLOSE}, but it resets the idle connection (SO_LINGER 0, no TLS
     * close_notify) instead of closing it, as load balancers set to reset idle connections do
     * (Azure's "TCP reset on idle", HAProxy's {@code option nolinger}).
     */
    IDLE_RESET,
    /**
     * A keep-alive HTTP/1.1 server whose every response says {@code Keep-Alive: timeout=0}: no
     * idle time allowed, so the connection is not to be reused; it keeps the connection open until
     * the client closes.
     */
    ANNOUNCED_NO_IDLE,
    /**
     * An HTTP/1.1 server that answers a request for any path but {@code /next} with {@code 302
     * Found} to {@code /next}, with a short body, and {@code /next} with {@code 200}; it keeps
     * the connection alive unless the request says {@code Connection: close}, and then closes
     * {@link RawHttpPeer#lateCloseDelay} after the response (a FIN that comes late).
     */
    REDIRECT,
    /**
     * An HTTP/1.0 server ({@code python3 -m http.server}): answers {@code HTTP/1.0} without a
     * {@code Connection} header, so the connection is not persistent, and closes after each
     * response.
     */
    HTTP_1_0,
    /**
     * A keep-alive HTTP/1.1 server whose every response says {@code Keep-Alive: timeout=5, max=0}
     * (no more requests on this connection) without {@code Connection: close}, and which keeps the
     * connection open: only a client that heeds {@code max=0} opens a new connection per request.
     */
    ANNOUNCED_NO_MORE,
    /**
     * A keep-alive HTTP/1.1 server that answers the first request of each connection and reads
     * the second, then closes (FIN) without answering it: a load balancer whose back end died on
     * a reused connection, or an idle close that crossed the request.
     */
    DROP_SECOND_REQUEST,
    /**
     * A server that reads each request and closes (FIN) without answering it: a back end that died
     * as the request came, on a fresh connection as on any other.
     */
    DROP_REQUEST,
    /**
     * A keep-alive HTTP/1.1 server that answers the first request of each connection, reads the
     * second and never answers it, holding the connection until the client goes away or the peer
     * stops: a request left unanswered on a reused connection, for its caller to give up on.
     */
    HOLD_SECOND_REQUEST,
    /**
     * A keep-alive HTTP/1.1 server that answers the first request of each connection and stalls
     * mid-body on the second, as {@link #STALL_MID_BODY} does: a stalled response on a reused
     * connection.
     */
    STALL_SECOND_RESPONSE,
    /**
     * A keep-alive HTTP/1.1 server that answers the first request of each connection and the
     * second with a malformed head ({@link RawHttpPeer#MALFORMED_HEAD}, a status that is no
     * number), then holds the connection, as {@link #HOLD_SECOND_REQUEST} does: an answer, if a
     * broken one, short enough to fit the TLS alert bytes a peer's close takes.
     */
    MALFORMED_SECOND_RESPONSE,
    /**
     * A keep-alive HTTP/1.1 server that answers the first request of each connection with {@code
     * 303 See Other} to {@code /next} (no body), and reads the second, then closes (FIN) without
     * answering it, as {@link #DROP_SECOND_REQUEST} does: a POST redirected, whose follow-up GET
     * went out on the reused connection and was dropped.
     */
    SEE_OTHER_THEN_DROP,
    /**
     * A keep-alive HTTP/1.1 server whose every response is a stream: chunked, a first chunk, then
     * after {@link RawHttpPeer#lateCloseDelay} the last chunk alone (5 bytes), as server-sent
     * events pause and end; it keeps the connection until the client closes.
     */
    PAUSED_STREAM,
    /**
     * Like {@link #PAUSED_STREAM}, but the last chunk carries a trailer, {@link
     * RawHttpPeer#TRAILER} (announced in the head's {@code Trailer}), as a checksum computed while
     * streaming is sent.
     */
    PAUSED_STREAM_WITH_TRAILER,
    /**
     * Like {@link #TRUNCATED_BODY}, but waits {@link RawHttpPeer#lateCloseDelay} after the half
     * body before it closes (FIN): a response cut mid-body after a pause, as a balancer's server
     * timeout or a back end that died cuts it.
     */
    TRUNCATED_AFTER_PAUSE,
    /**
     * An HTTP/1.1 server whose every response has neither a length nor chunking, and no {@code
     * Connection} header: its body ends at the server's close (RFC 9112 6.3), which follows it.
     */
    CLOSE_DELIMITED,
    /**
     * Like {@link #CLOSE_DELIMITED}, but every response also says {@code Connection: close}: the
     * body still ends only at the server's close.
     */
    CLOSE_DELIMITED_SAYS_CLOSE
  }

  /** The body length that the mid-body fault behaviours announce (and send half of). */
  public static final int FAULT_BODY_LENGTH = 256 * 1024;

  /**
   * The head {@link Behaviour#MALFORMED_SECOND_RESPONSE} answers with: a status that is no number
   * (19 bytes; 41 on the wire over TLS 1.3).
   */
  public static final String MALFORMED_HEAD = "HTTP/1.1 2x0 OK\r\n\r\n";

  /** The trailer of {@link Behaviour#PAUSED_STREAM_WITH_TRAILER}'s last chunk, name and value. */
  public static final String TRAILER = "X-Checksum: 5d41402a";

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
  private final java.util.List<String> requestHeads = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean stopped;

  private final javax.net.ssl.SSLSocketFactory tls;

  private RawHttpPeer(ServerSocket server, Behaviour behaviour, Duration lateCloseDelay,
      javax.net.ssl.SSLSocketFactory tls) {
    this.server = server;
    this.tls = tls;
    this.behaviour = behaviour;
    this.lateCloseDelay = lateCloseDelay;
    pool.execute(this::acceptLoop);
  }

  /**
   * A plain peer on a fresh loopback port ({@link KernelTcp#startOnFreshPorts}).
   *
   * @param behaviour what the peer does with each connection
   * @return the started peer
   * @throws IOException if no fresh port can be bound
   */
  public static RawHttpPeer start(Behaviour behaviour) throws IOException {
    return start(behaviour, Duration.ZERO, false);
  }

  /**
   * A peer on a fresh loopback port ({@link KernelTcp#startOnFreshPorts}), TLS with {@link
   * TestTls} if {@code tls}.
   *
   * @param behaviour what the peer does with each connection
   * @param lateCloseDelay how long a late close waits; 0 to 30 s (the peer's hold bound)
   * @param tls whether to speak TLS
   * @return the started peer
   * @throws IOException if no fresh port can be bound
   * @throws NullPointerException if {@code behaviour} or {@code lateCloseDelay} is null
   * @throws IllegalArgumentException if {@code lateCloseDelay} is negative or over 30 s
   */
  public static RawHttpPeer start(Behaviour behaviour, Duration lateCloseDelay, boolean tls)
      throws IOException {
    // Checked here, where a bad value names itself: on the peer's thread it cut the connection
    // (a negative sleep) or, cast to an int read timeout, made an idle close wait for ever.
    Preconditions.checkNotNull(behaviour, "behaviour");
    Preconditions.checkNonNegative(lateCloseDelay, HOLD_BOUND, "lateCloseDelay");
    boolean holdFin = behaviour == Behaviour.AWAIT_CLIENT_CLOSE || behaviour == Behaviour.NEVER_CLOSE
        || behaviour == Behaviour.IGNORE_CONNECTION_CLOSE || behaviour == Behaviour.STALL_MID_BODY
        || behaviour == Behaviour.STALL_SECOND_RESPONSE;
    // TLS first: a TLS setup that fails leaves no listening port behind.
    javax.net.ssl.SSLSocketFactory sockets = tls ? TestTls.get().serverContext().getSocketFactory() : null;
    ServerSocket server = KernelTcp.startOnFreshPorts(() -> {
      ServerSocket s = new PeerServerSocket(tls && holdFin);
      s.bind(new InetSocketAddress(LoopbackServer.IPV4_LOOPBACK, 0), 512);
      return s;
    }, ServerSocket::close, ServerSocket::getLocalPort);
    return new RawHttpPeer(server, behaviour, lateCloseDelay, sockets);
  }

  /** {@return the port the peer listens on} */
  public int port() {
    return server.getLocalPort();
  }

  /** {@return the connections accepted so far} */
  public int accepted() {
    return accepted.get();
  }

  /** {@return the requests read so far} */
  public int requests() {
    return requests.get();
  }

  /** {@return the request line of every request read so far, in order ({@code "POST /x HTTP/1.1"})} */
  public java.util.List<String> requestLines() {
    return requestHeads.stream().map(head -> head.substring(0, Math.max(0, head.indexOf("\r\n"))))
        .collect(java.util.stream.Collectors.toUnmodifiableList());
  }

  /** {@return the head (request line and header fields, CRLF-separated) of every request read so far, in order} */
  public java.util.List<String> requestHeads() {
    return java.util.List.copyOf(requestHeads);
  }

  private void acceptLoop() {
    while (!stopped) {
      try {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        live.add(socket);
        if (stopped) {
          // close() ran as this connection was accepted, and may have gone over the live set
          // before it joined: closed here (close() sets stopped first, this adds first).
          closeQuietly(socket);
          return;
        }
        try {
          pool.execute(() -> serve(socket));
        } catch (RejectedExecutionException stopping) {
          closeQuietly(socket);
          return;
        }
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket raw) {
    try (raw) {
      raw.setSoTimeout((int) HOLD_BOUND.toMillis());
      raw.setTcpNoDelay(true);
      Socket socket = raw;
      if (tls != null) {
        // TLS layered over the plain socket, so the peer can tell TLS's close_notify from TCP's FIN.
        SSLSocket ssl = (SSLSocket) tls.createSocket(raw, null, raw.getPort(), true);
        ssl.setUseClientMode(false);
        socket = ssl;
      }
      InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 8192);
      OutputStream out = socket.getOutputStream();
      boolean keepAlive = behaviour == Behaviour.AWAIT_CLIENT_CLOSE || behaviour == Behaviour.NEVER_CLOSE
          || behaviour == Behaviour.ANNOUNCED_NO_MORE;
      boolean idleClose = behaviour == Behaviour.IDLE_CLOSE || behaviour == Behaviour.ANNOUNCED_IDLE_CLOSE
          || behaviour == Behaviour.IDLE_RESET;
      String request;
      int onThisConnection = 0;
      while ((request = idleClose ? readRequestWithin(raw, in) : readRequest(in)) != null) {
        requestHeads.add(request);
        requests.incrementAndGet();
        onThisConnection++;
        if (behaviour == Behaviour.DROP_REQUEST
            || (behaviour == Behaviour.DROP_SECOND_REQUEST || behaviour == Behaviour.SEE_OTHER_THEN_DROP)
            && onThisConnection == 2) {
          socket.close(); // read, never answered
          return;
        }
        if ((behaviour == Behaviour.HOLD_SECOND_REQUEST || behaviour == Behaviour.MALFORMED_SECOND_RESPONSE)
            && onThisConnection == 2) {
          if (behaviour == Behaviour.MALFORMED_SECOND_RESPONSE) {
            out.write(MALFORMED_HEAD.getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
          while (in.read() >= 0) {
            // read, never answered: held until the client goes away (or the hold's bound)
          }
          return;
        }
        if (isMidBodyFault()
            || behaviour == Behaviour.STALL_SECOND_RESPONSE && onThisConnection == 2) {
          failMidBody(raw, socket, out);
          return;
        }
        if (behaviour == Behaviour.SEE_OTHER_THEN_DROP) {
          out.write(("HTTP/1.1 303 See Other\r\nLocation: /next\r\nContent-Length: 0\r\n"
              + "Connection: keep-alive\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          continue;
        }
        boolean clientAsksClose = request.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close");
        if (behaviour == Behaviour.REDIRECT) {
          boolean redirect = !request.startsWith("GET /next ") && !request.startsWith("HEAD /next ");
          byte[] body = (redirect ? "moved to /next" : "ok").getBytes(StandardCharsets.US_ASCII);
          out.write(((redirect ? "HTTP/1.1 302 Found\r\nLocation: /next\r\n" : "HTTP/1.1 200 OK\r\n")
              + "Content-Type: text/plain\r\nContent-Length: " + body.length + "\r\n"
              + "Connection: " + (clientAsksClose ? "close" : "keep-alive") + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          if (!request.startsWith("HEAD ")) {
            out.write(body);
          }
          out.flush();
          if (clientAsksClose) {
            Thread.sleep(lateCloseDelay.toMillis());
            socket.close();
            return;
          }
          continue;
        }
        if (behaviour == Behaviour.PAUSED_STREAM || behaviour == Behaviour.PAUSED_STREAM_WITH_TRAILER) {
          boolean trailer = behaviour == Behaviour.PAUSED_STREAM_WITH_TRAILER;
          String name = TRAILER.substring(0, TRAILER.indexOf(':'));
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
              + (trailer ? "Trailer: " + name + "\r\n" : "")
              + "Connection: " + (clientAsksClose ? "close" : "keep-alive") + "\r\n\r\n"
              + "2\r\nok\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          Thread.sleep(lateCloseDelay.toMillis());
          out.write(("0\r\n" + (trailer ? TRAILER + "\r\n" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          if (clientAsksClose) {
            socket.close();
            return;
          }
          continue;
        }
        String connection = switch (behaviour) {
          case IGNORE_CONNECTION_CLOSE, HTTP_1_0, CLOSE_DELIMITED -> "";
          case CLOSE_DELIMITED_SAYS_CLOSE -> "Connection: close\r\n";
          case KEEP_ALIVE, IDLE_CLOSE, IDLE_RESET, DROP_SECOND_REQUEST, HOLD_SECOND_REQUEST, STALL_SECOND_RESPONSE,
              MALFORMED_SECOND_RESPONSE ->
              "Connection: " + (clientAsksClose ? "close" : "keep-alive") + "\r\n";
          case ANNOUNCED_NO_MORE -> "Keep-Alive: timeout=5, max=0\r\n";
          case ANNOUNCED_NO_IDLE -> "Connection: keep-alive\r\nKeep-Alive: timeout=0\r\n";
          case ANNOUNCED_IDLE_CLOSE -> "Connection: " + (clientAsksClose ? "close" : "keep-alive")
              + "\r\nKeep-Alive: timeout=" + (lateCloseDelay.toMillis() + 999) / 1000 + "\r\n";
          default -> "Connection: " + (keepAlive ? "keep-alive" : "close") + "\r\n";
        };
        String version = behaviour == Behaviour.HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1";
        boolean closeDelimited = behaviour == Behaviour.CLOSE_DELIMITED
            || behaviour == Behaviour.CLOSE_DELIMITED_SAYS_CLOSE;
        String length = closeDelimited ? "" : "Content-Length: " + BODY.length + "\r\n";
        String head = version + " 200 OK\r\nContent-Type: text/plain\r\n" + length + connection + "\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        if (!request.startsWith("HEAD ")) { // a HEAD's response has the length, never the body
          out.write(BODY);
        }
        out.flush();
        if (behaviour == Behaviour.CLOSE_AFTER_RESPONSE || behaviour == Behaviour.HTTP_1_0
            || closeDelimited || ((behaviour == Behaviour.KEEP_ALIVE || idleClose) && clientAsksClose)) {
          socket.close();
          return;
        }
        if (behaviour == Behaviour.CLOSE_LATE) {
          Thread.sleep(lateCloseDelay.toMillis());
          socket.close();
          return;
        }
        if (behaviour == Behaviour.RESET_LATE) {
          Thread.sleep(lateCloseDelay.toMillis());
          reset(raw);
          return;
        }
      }
      if (idleClose && !raw.isClosed()) {
        if (behaviour == Behaviour.IDLE_RESET) {
          reset(raw);
        } else {
          socket.close(); // the idle timeout passed (or the client closed): close first, TLS too
        }
        return;
      }
      if (tls != null) {
        awaitClientFin(raw);
        raw.close();
      } else {
        socket.close();
      }
    } catch (SocketTimeoutException e) {
      // held for the whole bound: give up
    } catch (IOException e) {
      // the client reset or went away, or ended TLS (close_notify, user_canceled)
      awaitClientFin(raw);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      live.remove(raw);
    }
  }

  /**
   * Resets the connection: SO_LINGER(0) on the plain socket, so that its close is an RST with no
   * TLS close_notify before it.
   */
  private static void reset(Socket raw) throws IOException {
    raw.setSoLinger(true, 0);
    raw.close();
  }

  /**
   * Over TLS, a client's close_notify is not its FIN: read the plain socket to its end, so that a
   * client that closes first is seen to close first (a JDK client sends close_notify, then FIN).
   */
  private void awaitClientFin(Socket raw) {
    if (tls == null || raw.isClosed()) {
      return;
    }
    try {
      InputStream rawIn = raw.getInputStream();
      byte[] sink = new byte[512];
      while (rawIn.read(sink) >= 0) {
        // discard
      }
    } catch (IOException e) {
      // reset, or the bound passed
    }
  }

  /**
   * A server socket whose accepted sockets can hold back the FIN that the JDK's TLS layer sends by
   * itself when a client ends TLS (on user_canceled + close_notify it closes its outbound side):
   * a peer that waits for the client's close must not race it with a FIN of its own.
   */
  private static final class PeerServerSocket extends ServerSocket {
    private final boolean holdFin;

    PeerServerSocket(boolean holdFin) throws IOException {
      this.holdFin = holdFin;
    }

    @Override
    public Socket accept() throws IOException {
      Socket socket = new Socket() {
        @Override
        public void shutdownOutput() throws IOException {
          if (!holdFin) {
            super.shutdownOutput();
          }
        }
      };
      implAccept(socket);
      return socket;
    }
  }

  private boolean isMidBodyFault() {
    return behaviour == Behaviour.RESET_MID_BODY || behaviour == Behaviour.TRUNCATED_BODY
        || behaviour == Behaviour.TRUNCATED_AFTER_PAUSE || behaviour == Behaviour.STALL_MID_BODY;
  }

  /** Announces {@link #FAULT_BODY_LENGTH} bytes, sends half, then resets, closes (at once or after a pause) or stalls. */
  private void failMidBody(Socket raw, Socket socket, OutputStream out)
      throws IOException, InterruptedException {
    String head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
        + FAULT_BODY_LENGTH + "\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[FAULT_BODY_LENGTH / 2]);
    out.flush();
    switch (behaviour) {
      case RESET_MID_BODY -> {
        Thread.sleep(50); // let the half body reach the client before the RST discards it
        reset(raw);
      }
      case TRUNCATED_BODY -> {
        Thread.sleep(50);
        socket.close();
      }
      case TRUNCATED_AFTER_PAUSE -> {
        Thread.sleep(lateCloseDelay.toMillis());
        socket.close();
      }
      default -> {
        // STALL_MID_BODY, STALL_SECOND_RESPONSE: hold until the client goes away (read ends) or
        // the bound passes
        InputStream rawIn = raw.getInputStream();
        byte[] sink = new byte[512];
        while (!stopped && rawIn.read(sink) >= 0) {
          // discard
        }
      }
    }
  }

  /**
   * Reads one request head, waiting at most {@link #lateCloseDelay} for it to start: null at end
   * of stream or when the peer's idle timeout passed first (the caller then closes).
   */
  private String readRequestWithin(Socket raw, InputStream in) throws IOException {
    int bound = raw.getSoTimeout();
    raw.setSoTimeout((int) Math.max(1, lateCloseDelay.toMillis()));
    try {
      in.mark(1);
      if (in.read() < 0) {
        return null;
      }
      in.reset();
    } catch (SocketTimeoutException idle) {
      return null; // idle for the whole timeout: close first, as an idle-timing server does
    } finally {
      raw.setSoTimeout(bound);
    }
    return readRequest(in);
  }

  /** Reads one request head, and skips its body ({@code Content-Length} only); null at end of stream. */
  private static String readRequest(InputStream in) throws IOException {
    String head = readHead(in);
    if (head == null) {
      return null;
    }
    if (head.toLowerCase(java.util.Locale.ROOT).contains("\r\ntransfer-encoding: chunked")) {
      return skipChunkedBody(in) ? head : null;
    }
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        long left = Long.parseLong(line.substring(15).trim());
        while (left > 0) {
          long n = in.skip(left);
          if (n <= 0) {
            if (in.read() < 0) {
              return null;
            }
            n = 1;
          }
          left -= n;
        }
      }
    }
    return head;
  }

  /** Reads a chunked body to its end (RFC 9112 7.1); false if the stream ended first. */
  private static boolean skipChunkedBody(InputStream in) throws IOException {
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        return false;
      }
      int semicolon = sizeLine.indexOf(';');
      long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
      if (size == 0) {
        String trailer;
        do {
          trailer = readLine(in);
          if (trailer == null) {
            return false;
          }
        } while (!trailer.isEmpty());
        return true;
      }
      for (long left = size; left > 0; left--) {
        if (in.read() < 0) {
          return false;
        }
      }
      if (readLine(in) == null) { // the CRLF after the chunk's data
        return false;
      }
    }
  }

  /** A line without its CRLF, or null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        int end = line.length();
        return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
      }
      line.append((char) b);
      if (line.length() > 8192) {
        throw new IOException("line too long");
      }
    }
    return null;
  }

  /**
   * Reads an HTTP request head, up to and including its blank line, for test peers of your own (a
   * proxy, an upgrade peer) that speak HTTP/1.1 on a raw socket. Bytes past the head stay in
   * {@code in}.
   *
   * @param in the connection's input
   * @return the head as ISO-8859-1 text, or null if the stream ended first
   * @throws IOException if reading fails, or the head passes 64 KiB
   */
  public static String readRequestHead(InputStream in) throws IOException {
    return readHead(Preconditions.checkNotNull(in, "in"));
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
      if (head.size() > 64 * 1024) {
        throw new IOException("request head too large");
      }
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    stopped = true;
    server.close();
    for (Socket s : live) {
      closeQuietly(s);
    }
    pool.shutdownNow();
    try {
      pool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
