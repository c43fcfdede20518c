package dev.timewait;

import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.Preconditions;
import dev.timewait.spi.ResponseMark;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import javax.net.SocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SocketFactory} whose sockets close the way a {@link CloseStrategy} says, so that the
 * client keeps no TIME_WAIT. This is the socket layer that the adapters share; use it directly
 * with any client that takes a {@code SocketFactory} (server close also needs the client's
 * exchanges to arm their connections through {@link dev.timewait.spi.SocketControl}).
 *
 * <ul>
 *   <li><b>Reset</b> ({@link Retirement#RESET}): {@code close()} sets {@code SO_LINGER(0)} and
 *       closes, which sends an RST. Nobody keeps TIME_WAIT.
 *   <li><b>Server close</b> ({@link Retirement#SERVER_CLOSE}): once a connection is armed
 *       ({@link dev.timewait.spi.SocketControl}: its exchange carried {@code Connection: close}), {@code close()} first reads
 *       until the server's FIN, bounded by {@link CloseStrategy#finWait()}, then closes: TIME_WAIT
 *       lands on the server. On timeout it resets and counts a FIN-wait timeout. A close that was
 *       not armed, or that comes while another thread is still reading or writing (a cancel), or
 *       after an I/O error, resets at once, unless the server's FIN had already been read. A
 *       cancel ({@code SocketControl.abortFinWait}), an interrupt of the waiting thread or a client's
 *       shutdown ({@link #abortFinWaits}) ends the wait at once with an RST and counts a FIN-wait
 *       abort.
 * </ul>
 *
 * <p>Both strategies set {@code SO_LINGER(0)} before the SYN, so a close that races {@code
 * connect()} (a cancel) resets whatever the kernel has made of the connection; such a connection
 * is counted opened and closed, or not at all.
 *
 * <p>The sockets swallow {@code shutdownOutput()} and {@code shutdownInput()}, and keep a
 * client's own {@code setSoLinger} from taking effect: the JDK's {@code SSLSocket.close()} calls
 * {@code shutdownOutput()} on the socket beneath it, which would send a FIN before our close and
 * leave TIME_WAIT on the client. Layer TLS over these sockets with {@code
 * SSLSocketFactory.createSocket(socket, host, port, true)}.
 *
 * <p>A SOCKS proxy configured for the whole JVM ({@code socksProxyHost}, {@code
 * java.net.useSystemProxies}, or a default {@link java.net.ProxySelector} of the application's own)
 * carries these sockets as it carries plain ones; without one, they connect without asking the
 * JVM's proxy selector (which a plain {@code new Socket()} asks on every connect).
 *
 * <p>The forms that connect ({@code createSocket(host, port, ...)}) connect as the JDK's default
 * factory does, without a timeout: only the kernel's SYN retries end them (about two minutes on
 * Linux). For a bound, take {@link #createSocket()} and connect it with a timeout, as HttpClient
 * and OkHttp do:
 *
 * <pre>{@code
 * TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
 * try (Socket socket = factory.createSocket()) {
 *   socket.connect(new InetSocketAddress("127.0.0.1", 8080), 5_000);
 *   socket.setSoTimeout(10_000);
 *   // write a request, read the whole response
 * } // closes with an RST: no TIME_WAIT on either side
 * CloseStats stats = factory.accounting().snapshot();
 * }</pre>
 *
 * <p>Close every socket it makes: the factory holds each connected socket until its close (to
 * find it again by its endpoints, for {@link dev.timewait.spi.SocketControl} and {@link
 * #openConnections()}), so a socket a client drops unclosed is not reclaimed by the JDK's own
 * cleanup of unreachable sockets and keeps its file descriptor; the adapters' clients close each
 * one.
 *
 * <p>Thread-safe: one factory serves any number of threads. Each socket it makes may be closed
 * from any thread; a second concurrent {@code close()} returns at once and leaves a FIN wait
 * under way alone (OkHttp's pool cleanup may close a connection as its call closes it).
 */
public final class TimeWaitSocketFactory extends SocketFactory {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitSocketFactory.class);

  static {
    // The adapter operations are package-private; dev.timewait.spi.SocketControl reaches them.
    CoreAccess.register(new CoreAccess.Sockets() {
      @Override
      public boolean arm(TimeWaitSocketFactory factory, Socket socket) {
        return factory.arm(socket);
      }

      @Override
      public boolean arm(TimeWaitSocketFactory factory, Socket socket, BooleanSupplier abortWhen) {
        return factory.arm(socket, abortWhen);
      }

      @Override
      public boolean arm(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote,
          BooleanSupplier abortWhen) {
        return abortWhen == null ? factory.arm(local, remote) : factory.arm(local, remote, abortWhen);
      }

      @Override
      public boolean owns(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote) {
        return factory.owns(local, remote);
      }

      @Override
      public long ageNanos(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote) {
        return factory.ageNanos(local, remote);
      }

      @Override
      public boolean retireWhenIdle(TimeWaitSocketFactory factory, Socket socket, long afterIdleNanos) {
        return factory.retireWhenIdle(socket, afterIdleNanos);
      }

      @Override
      public ResponseMark markResponse(TimeWaitSocketFactory factory, Socket socket) {
        return factory.markResponse(socket);
      }

      @Override
      public boolean abortFinWait(TimeWaitSocketFactory factory, Socket socket) {
        return factory.abortFinWait(socket);
      }

      @Override
      public long noteRequest(TimeWaitSocketFactory factory, Socket socket, long requestsIncludingThis) {
        TimeWaitSocket target = factory.find(socket);
        if (target == null) {
          return -1;
        }
        target.noteRequest(requestsIncludingThis);
        return target.ageNanos();
      }

      @Override
      public boolean retire(TimeWaitSocketFactory factory, Socket socket, CloseEvent.Reason reason) {
        TimeWaitSocket target = factory.find(socket);
        return target != null && target.retire(reason);
      }

      @Override
      public void clientShuttingDown(TimeWaitSocketFactory factory) {
        factory.shuttingDown = true;
      }
    });
  }

  private final CloseStrategy strategy;
  /** How the sockets close: the strategy's retirement; null for an observing factory. */
  private final Retirement retirement;
  private final long finWaitNanos;
  /** Pooled strategies: the idle time after which a reuse check probes for the peer's close; -1. */
  private final long staleCheckNanos;
  private final CloseAccounting accounting;
  private final Map<ConnectionKey, TimeWaitSocket> open = new ConcurrentHashMap<>();
  /**
   * Sockets layered over open ones of this factory ({@code SSLSocket}s), found once by their
   * endpoints: a socket's hash and equality are its identity, so a later lookup allocates
   * nothing (an endpoint lookup makes a key, and may ask the kernel for the local address).
   */
  private final Map<Socket, TimeWaitSocket> layered = new ConcurrentHashMap<>();
  /** The client is shutting down: closes without another reason are {@code SHUTDOWN}. */
  private volatile boolean shuttingDown;

  private TimeWaitSocketFactory(CloseStrategy strategy, CloseAccounting accounting) {
    this.strategy = strategy;
    this.retirement = strategy == null ? null : strategy.retirement();
    this.finWaitNanos = strategy == null ? 0 : strategy.finWait().toNanos();
    this.staleCheckNanos = strategy instanceof PooledKeepAlive
        ? ((PooledKeepAlive) strategy).staleCheckAfterIdle().toNanos()
        : -1;
    this.accounting = accounting;
  }

  /**
   * A factory for {@code strategy}, with an accounting of its own.
   *
   * @param strategy how the factory's sockets close
   * @return a new factory
   */
  public static TimeWaitSocketFactory create(CloseStrategy strategy) {
    return create(strategy, new CloseAccounting());
  }

  /**
   * A factory for {@code strategy} that counts into {@code accounting}.
   *
   * @param strategy how the factory's sockets close
   * @param accounting counts every socket the factory makes
   * @return a new factory
   */
  public static TimeWaitSocketFactory create(CloseStrategy strategy, CloseAccounting accounting) {
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    return new TimeWaitSocketFactory(strategy, accounting);
  }

  /**
   * A factory whose sockets close exactly as plain sockets do, and are only counted: the baseline
   * that shows what a client does without timewait. A close counts as {@code closedByReset} if
   * the client set {@code SO_LINGER(0)} for it, else as {@code closedLocallyFirst} unless the
   * client had read the server's FIN (end of stream) before it and had not half-closed first.
   *
   * @return a new observing factory
   */
  public static TimeWaitSocketFactory observing() {
    return observing(new CloseAccounting());
  }

  /**
   * Like {@link #observing()}, counting into {@code accounting}.
   *
   * @param accounting counts every socket the factory makes
   * @return a new observing factory
   */
  public static TimeWaitSocketFactory observing(CloseAccounting accounting) {
    Preconditions.checkNotNull(accounting, "accounting");
    return new TimeWaitSocketFactory(null, accounting);
  }

  /** {@return the strategy, or null for an {@linkplain #observing() observing} factory} */
  public CloseStrategy strategy() {
    return strategy;
  }

  /** {@return the close accounting of every socket this factory made} */
  public CloseAccounting accounting() {
    return accounting;
  }

  /** {@return the connections this factory made that are connected and not closed yet} */
  public int openConnections() {
    return open.size();
  }

  /**
   * Arms the server close of the connection that {@code socket} belongs to: its exchange carried
   * {@code Connection: close}, so its close waits for the server's FIN. {@code socket} may be a
   * socket of this factory or a socket layered over one (an {@code SSLSocket}).
   *
   * <p>Arm only once the request has been written whole (on the response's headers, say): from
   * then on the connection discards what is written to it. The only bytes a complete exchange
   * still writes are TLS's close_notify, and a server that has already closed would answer them
   * with an RST instead of keeping its TIME_WAIT.
   *
   * @param socket a socket of this factory, or one layered over it
   * @return true if the connection is one of this factory's and its strategy closes by server
   *     close; false otherwise (nothing changes)
   */
  boolean arm(Socket socket) {
    return armSocket(socket, null);
  }

  /** {@link #arm(Socket)}, with {@code abortWhen} polled during the FIN wait (true ends it). */
  boolean arm(Socket socket, BooleanSupplier abortWhen) {
    return armSocket(socket, Preconditions.checkNotNull(abortWhen, "abortWhen"));
  }

  /** {@code abortWhen}: null for none (as {@link TimeWaitSocket#arm(BooleanSupplier)} takes it). */
  private boolean armSocket(Socket socket, BooleanSupplier abortWhen) {
    Preconditions.checkNotNull(socket, "socket");
    if (retirement != Retirement.SERVER_CLOSE) {
      return false;
    }
    TimeWaitSocket target = find(socket);
    if (target == null) {
      return false;
    }
    target.arm(abortWhen);
    return true;
  }

  /**
   * Like {@link #arm(Socket)}, for a client that exposes a connection's endpoints but not its
   * socket (HttpClient 5's {@code HttpConnection}, {@code EndpointDetails}): arms the open
   * connection of this factory from {@code localAddress} to {@code remoteAddress}.
   *
   * @param localAddress the connection's local endpoint
   * @param remoteAddress the connection's remote endpoint
   * @return true if such a connection is open and this factory closes by server close; false
   *     otherwise (nothing changes; addresses that are not {@link InetSocketAddress}es never match)
   */
  boolean arm(SocketAddress localAddress, SocketAddress remoteAddress) {
    Preconditions.checkNotNull(localAddress, "localAddress");
    Preconditions.checkNotNull(remoteAddress, "remoteAddress");
    if (retirement != Retirement.SERVER_CLOSE) {
      return false;
    }
    TimeWaitSocket target = find(localAddress, remoteAddress);
    if (target == null) {
      return false;
    }
    target.arm();
    return true;
  }

  /**
   * Ends the FIN wait of the connection that {@code socket} belongs to (a socket of this factory
   * or one layered over it): a close waiting for the server's FIN ends at once with an RST, and
   * a close not begun yet resets without waiting. If the connection was {@linkplain #arm armed},
   * that counts as a FIN-wait abort ({@link CloseStats#finWaitAborts()}). For a cancel that
   * comes after the exchange completed, when a client no longer closes the socket itself (OkHttp's
   * cancel and call timeout). An interrupt of the waiting thread ends the wait the same way; a
   * second {@code close()} from another thread does not.
   *
   * @param socket a socket of this factory, or one layered over it
   * @return true if the connection is one of this factory's and still open; false otherwise
   *     (nothing changes)
   */
  boolean abortFinWait(Socket socket) {
    Preconditions.checkNotNull(socket, "socket");
    TimeWaitSocket target = find(socket);
    if (target == null || target.isClosed()) {
      return false;
    }
    target.abortFinWait();
    return true;
  }

  /**
   * {@code SocketControl.abortFinWait} for every open armed connection of this
   * factory: for a client's shutdown, which should not wait out the FIN of exchanges that are
   * over. Connections that are not armed (idle, or with an exchange under way) are left alone.
   *
   * @return how many connections were told to end their FIN wait
   */
  public int abortFinWaits() {
    int aborted = 0;
    for (TimeWaitSocket socket : open.values()) {
      if (socket.isArmed()) {
        socket.abortFinWait();
        aborted++;
      }
    }
    if (aborted > 0) {
      log.debug("aborted the FIN wait of {} connections", aborted);
    }
    return aborted;
  }

  /**
   * Like {@link #arm(SocketAddress, SocketAddress)}, for a client whose cancel only flags the
   * request once its exchange is over (HttpClient 5's classic {@code HttpUriRequestBase.cancel()}
   * no longer reaches the connection then): the close polls {@code abortWhen} while it waits for
   * the server's FIN, every {@value TimeWaitSocket#FIN_WAIT_SLICE_MILLIS} ms at most, and true
   * ends the wait with an RST, a FIN-wait abort. {@code abortWhen} must be cheap, thread-safe and
   * must not block.
   *
   * @param localAddress the connection's local endpoint
   * @param remoteAddress the connection's remote endpoint
   * @param abortWhen polled during the FIN wait; true ends it
   * @return as {@link #arm(SocketAddress, SocketAddress)}
   */
  boolean arm(SocketAddress localAddress, SocketAddress remoteAddress,
      BooleanSupplier abortWhen) {
    Preconditions.checkNotNull(localAddress, "localAddress");
    Preconditions.checkNotNull(remoteAddress, "remoteAddress");
    Preconditions.checkNotNull(abortWhen, "abortWhen");
    if (retirement != Retirement.SERVER_CLOSE) {
      return false;
    }
    TimeWaitSocket target = find(localAddress, remoteAddress);
    if (target == null) {
      return false;
    }
    target.arm(abortWhen);
    return true;
  }

  /**
   * Whether this factory made the open connection from {@code localAddress} to {@code
   * remoteAddress}: {@link #owns(Socket)} by endpoints.
   *
   * @param localAddress the connection's local endpoint
   * @param remoteAddress the connection's remote endpoint
   * @return true if the connection is this factory's and open
   */
  boolean owns(SocketAddress localAddress, SocketAddress remoteAddress) {
    Preconditions.checkNotNull(localAddress, "localAddress");
    Preconditions.checkNotNull(remoteAddress, "remoteAddress");
    return find(localAddress, remoteAddress) != null;
  }

  /**
   * How long ago the open connection from {@code localAddress} to {@code remoteAddress} was
   * established, for the connection rules' lifetime ({@link dev.timewait.spi.ConnectionRules}).
   *
   * @param localAddress the connection's local endpoint
   * @param remoteAddress the connection's remote endpoint
   * @return its age in nanoseconds, or -1 if no such connection of this factory is open
   */
  long ageNanos(SocketAddress localAddress, SocketAddress remoteAddress) {
    TimeWaitSocket target = find(localAddress, remoteAddress);
    return target == null ? -1 : target.ageNanos();
  }

  private TimeWaitSocket find(SocketAddress localAddress, SocketAddress remoteAddress) {
    if (!(localAddress instanceof InetSocketAddress) || !(remoteAddress instanceof InetSocketAddress)) {
      return null;
    }
    InetSocketAddress local = (InetSocketAddress) localAddress;
    InetSocketAddress remote = (InetSocketAddress) remoteAddress;
    if (local.getAddress() == null || remote.getAddress() == null) {
      return null; // unresolved: never a connected socket's endpoint
    }
    return open.get(new ConnectionKey(
        local.getAddress(), local.getPort(), remote.getAddress(), remote.getPort()));
  }

  /**
   * For adapters of pooled strategies: the connection {@code socket} belongs to (a socket of this
   * factory or one layered over it) retires at its next reuse check once it has been idle for
   * {@code afterIdleNanos}, 0 meaning at once: its peer announced its idle timeout ({@code
   * Keep-Alive: timeout=N}, less a margin), or its response ended it (HTTP/1.0 without
   * keep-alive). The reuse check is {@link Socket#isClosed()}, which the client asks before it
   * reuses a pooled connection; a retired connection closes the strategy's way, or after the
   * peer's FIN if that came first, and reports itself closed.
   *
   * @param socket a socket of this factory, or one layered over it
   * @param afterIdleNanos the idle time after which the connection retires; 0 or more
   * @return true if the connection is one of this factory's, open, and pooled
   */
  boolean retireWhenIdle(Socket socket, long afterIdleNanos) {
    Preconditions.checkNotNull(socket, "socket");
    Preconditions.checkNonNegative(afterIdleNanos, "afterIdleNanos");
    TimeWaitSocket target = staleCheckNanos < 0 ? null : find(socket);
    if (target == null) {
      return false;
    }
    target.retireWhenIdle(afterIdleNanos);
    return true;
  }

  /**
   * For adapters of pooled strategies: a mark of what the connection of {@code socket} has read,
   * taken as a request goes out on it, to tell later whether the exchange failed before any byte
   * of its response arrived; null if it is not a pooled connection of this factory.
   *
   * @param socket a socket of this factory, or one layered over it
   * @return the mark, or null
   */
  ResponseMark markResponse(Socket socket) {
    Preconditions.checkNotNull(socket, "socket");
    TimeWaitSocket target = staleCheckNanos < 0 ? null : find(socket);
    return target == null ? null : new SocketResponseMark(target, socket != target);
  }

  /**
   * The most bytes a peer's TLS close takes on the wire: 128, two alert records with room. A JDK
   * peer closing a TLS 1.3 connection sends user_canceled and close_notify, 40 bytes each
   * (measured); the smallest HTTP response head takes a record of its own.
   */
  static final int TLS_ALERT_BYTES = 128;

  /**
   * Whether {@code socket} (or the socket beneath it) was made by this factory and is open.
   *
   * @param socket any socket
   * @return true if the connection is this factory's and open
   */
  public boolean owns(Socket socket) {
    Preconditions.checkNotNull(socket, "socket");
    // find answers for a socket of ours whatever its state (its other callers need that).
    TimeWaitSocket own = find(socket);
    return own != null && own.isConnected() && !own.closingStarted();
  }

  private TimeWaitSocket find(Socket socket) {
    if (socket instanceof TimeWaitSocket) {
      TimeWaitSocket own = (TimeWaitSocket) socket;
      return own.factory() == this ? own : null;
    }
    TimeWaitSocket beneath = layered.get(socket);
    if (beneath != null) {
      return beneath.closingStarted() ? null : beneath;
    }
    if (!socket.isConnected() || socket.getInetAddress() == null) {
      return null; // not connected, or not over TCP (a Unix domain socket): none of ours
    }
    beneath = open.get(ConnectionKey.of(socket));
    if (beneath != null && beneath.layeredUnder(socket)) {
      layered.put(socket, beneath);
      if (beneath.closingStarted()) {
        layered.remove(socket, beneath); // closed meanwhile: its close may have run its removal
      }
    }
    return beneath;
  }

  /** Whether the client said it is shutting down ({@code SocketControl.clientShuttingDown}). */
  boolean shuttingDown() {
    return shuttingDown;
  }

  @Override
  public Socket createSocket() {
    return newSocket();
  }

  /** A socket that asks the JVM's proxy selector only if it might answer other than NO_PROXY. */
  private TimeWaitSocket newSocket() {
    return JvmSocketProxy.mayProxy()
        ? new TimeWaitSocket(this)
        : new TimeWaitSocket(this, Proxy.NO_PROXY);
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(null, new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(null, new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return connected(new InetSocketAddress(localHost, localPort), new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return connected(new InetSocketAddress(localHost, localPort), new InetSocketAddress(host, port));
  }

  private Socket connected(InetSocketAddress local, InetSocketAddress remote) throws IOException {
    TimeWaitSocket socket = newSocket();
    try {
      if (local != null) {
        socket.bind(local);
      }
      socket.connect(remote);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** {@return how the sockets close, or null if they close as plain sockets do (observing)} */
  Retirement retirement() {
    return retirement;
  }

  long staleCheckNanos() {
    return staleCheckNanos;
  }

  long finWaitNanos() {
    return finWaitNanos;
  }

  void connected(TimeWaitSocket socket, ConnectionKey key) {
    open.put(key, socket);
    accounting.recordOpened();
    if (log.isDebugEnabled()) {
      log.debug("opened {} ({})", key, retirement == null ? "observed" : retirement);
    }
  }

  void closed(TimeWaitSocket socket, ConnectionKey key, String how) {
    // Only if still this socket's: after an RST the kernel may hand the same local port, and so
    // the same key, to a new connection before this line runs.
    open.remove(key, socket);
    Socket layer = socket.layer();
    if (layer != null) {
      layered.remove(layer, socket);
    }
    if (log.isDebugEnabled()) {
      log.debug("closed {}: {}", key, how);
    }
  }

  @Override
  public String toString() {
    return "TimeWaitSocketFactory[" + (strategy == null ? "observing" : strategy) + "]";
  }

  /**
   * A connection's endpoints, as the key of the open connections: local port, remote address and
   * port, which the JDK keeps after {@code connect()}, and the local address, which it does not.
   *
   * <p>Why the local address is left out of the hash and compared only when two keys share the
   * rest: JDK 17 answers {@link Socket#getLocalAddress()} by asking the kernel each time (two
   * {@code getsockname} calls: {@code SO_BINDADDR} reads the address and the port), where {@code
   * getLocalPort()}, {@code getInetAddress()} and {@code getPort()} are fields that {@code
   * connect()} set; reading it for every key cost 2 system calls per connection beyond a plain
   * client's (docs/benchmarks.md, section 13). Linux tells TCP connections apart by their 4-tuple,
   * and two open connections share (local port, remote address, remote port) only if their local
   * addresses differ: bind conflicts are per local address, so sockets bound to 127.0.0.1:P and
   * 127.0.0.2:P may both connect to one server (binding several source addresses multiplies the
   * port space), while {@code connect()} on an unbound socket takes the source address of the
   * route and a port that makes the 4-tuple unique. So keys hash the triple; only keys that share
   * it compare local addresses, which each connection's socket then learns once ({@link
   * TimeWaitSocket#localAddressForKey()}: free if it was bound to an address, or if the client
   * asked for it already). A socket's address is learned once and kept; one first needed after
   * the socket closed stays unknown, and its key then equals only itself: a key's equality never
   * changes while it is in a map.
   *
   * <p>Keys of lookups are made and used by one thread; keys of connections by any.
   */
  static final class ConnectionKey {
    private final int localPort;
    private final InetAddress remoteAddress;
    private final int remotePort;
    private final int hash;
    /**
     * The socket to ask for the local address if it is needed: the connection's own ({@link
     * TimeWaitSocket}), or one a lookup was given (an {@code SSLSocket} over ours, which asks the
     * socket beneath); null when the address was given.
     */
    private final Socket socket;
    /** The local address, given or asked once (lookups); null until then, and for our sockets. */
    private InetAddress localAddress;

    ConnectionKey(InetAddress localAddress, int localPort, InetAddress remoteAddress, int remotePort) {
      this(null, localAddress, localPort, remoteAddress, remotePort);
    }

    private ConnectionKey(Socket socket, InetAddress localAddress, int localPort,
        InetAddress remoteAddress, int remotePort) {
      this.socket = socket;
      this.localAddress = localAddress;
      this.localPort = localPort;
      this.remoteAddress = Preconditions.checkNotNull(remoteAddress, "remoteAddress");
      this.remotePort = remotePort;
      this.hash = (31 * localPort + remoteAddress.hashCode()) * 31 + remotePort;
    }

    /**
     * The key of a connected socket, from the endpoint fields the JDK keeps: no system call. Its
     * local address is asked of {@code socket} only if another key shares the rest.
     */
    static ConnectionKey of(Socket socket) {
      return new ConnectionKey(
          socket, null, socket.getLocalPort(), socket.getInetAddress(), socket.getPort());
    }

    InetAddress remoteAddress() {
      return remoteAddress;
    }

    int remotePort() {
      return remotePort;
    }

    /** The local address, asked for if needed; null if it can no longer be known. */
    private InetAddress localAddress() {
      if (socket instanceof TimeWaitSocket) {
        return ((TimeWaitSocket) socket).localAddressForKey();
      }
      InetAddress address = localAddress;
      if (address == null && socket != null) {
        address = socket.getLocalAddress(); // a lookup's, once: the wildcard once it is closed
        localAddress = address;
      }
      return address == null || address.isAnyLocalAddress() ? null : address;
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (!(o instanceof ConnectionKey)) {
        return false;
      }
      ConnectionKey other = (ConnectionKey) o;
      if (localPort != other.localPort || remotePort != other.remotePort
          || !remoteAddress.equals(other.remoteAddress)) {
        return false;
      }
      // The same local port towards the same peer: only the local addresses tell them apart.
      InetAddress mine = localAddress();
      return mine != null && mine.equals(other.localAddress());
    }

    @Override
    public int hashCode() {
      return hash;
    }

    /** For debug logs: asks for the local address if it is not known yet. */
    @Override
    public String toString() {
      InetAddress local = localAddress();
      return (local == null ? "?" : local.getHostAddress()) + ":" + localPort + " -> "
          + remoteAddress.getHostAddress() + ":" + remotePort;
    }
  }
}
