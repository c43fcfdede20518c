package dev.timewait;

import dev.timewait.internal.CallbackFailures;
import dev.timewait.spi.CloseOutcome;
import dev.timewait.spi.CloseReasons;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A plain socket whose {@link #close()} follows its factory's retirement (or, observing, a plain close); see {@link
 * TimeWaitSocketFactory}. Its streams are thin wrappers that note, without allocating, whether a
 * read or write is under way, whether one failed, and whether the peer's FIN was read.
 *
 * <p>Once armed for a server close, the socket discards what is written to it: the exchange is
 * complete, and the only bytes left to write are TLS's close_notify. A server that has already
 * closed answers data with an RST (Linux: TCPAbortOnData), which would rob it of its TIME_WAIT.
 *
 * <p>Unless the factory only observes, {@code SO_LINGER(0)} is set before the SYN, so that any
 * close the strategy did not plan (one racing {@code connect()}, say) is an RST; it is lifted
 * only for the graceful close after the peer's FIN.
 *
 * <p>Thread-safe as {@link Socket} is. {@code close()} runs its logic once; a FIN wait ends
 * early only through {@link #abortFinWait()}, an {@code abortWhen} supplier, an interrupt of
 * the waiting thread, or the client's shutdown ({@code SocketControl.clientShuttingDown}).
 * {@code connect()} and {@code close()} agree under a lock on whether the connection was
 * registered, so it is counted opened and closed, or not at all.
 */
final class TimeWaitSocket extends Socket {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitSocket.class);
  /** Whether a throwing abortWhen supplier was warned of: once per JVM, debug after. */
  private static final AtomicBoolean ABORT_WHEN_FAILED_WARNED = new AtomicBoolean();
  /**
   * The longest one read of a FIN wait blocks. A blocking socket read ignores {@link
   * Thread#interrupt()} (platform threads), so the wait reads in slices and checks the interrupt
   * flag between them.
   */
  static final int FIN_WAIT_SLICE_MILLIS = 50;

  /** How long a reuse check's "alive" stands for the calls that follow it: 20 ms. */
  private static final long CHECK_FRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * Nothing learned retires a connection sooner, and no shorter pause is learned from: {@link
   * PeerIdleTimeouts#MIN_LEARNED}.
   */
  private static final long MIN_LEARNED_NANOS = PeerIdleTimeouts.MIN_LEARNED.toNanos();

  /**
   * Where every FIN wait reads what arrives before the peer's FIN (a TLS close_notify, a few stray
   * bytes), to discard it. Nothing ever reads this array, so waits on many threads may write into
   * it at once: the JDK copies each read into it from its own buffer, and racing writes to a Java
   * array are harmless where nothing reads them. One array per JVM instead of 512 bytes per server
   * close (issue 19; hc5-async's FIN wait does the same per reactor thread).
   */
  private static final byte[] DISCARDED = new byte[512];

  private static final int SLICE_TIMED_OUT = -2;
  private static final int SLICE_ABORTED = -3;

  /** {@link #localAddress} once the socket was closed before its address was known. */
  private static final Object LOCAL_ADDRESS_UNKNOWN = new Object();
  private static final VarHandle LOCAL_ADDRESS;
  // The counters and flags below are plain volatile fields updated through these handles, not
  // Atomic* objects: four objects (64 bytes) fewer per connection (issue 19).
  private static final VarHandle ACTIVE_IO;
  private static final VarHandle CLOSING;
  private static final VarHandle CHECKING;
  private static final VarHandle OPTION_CALLS;
  private static final VarHandle RETIRE_REASON;
  private static final VarHandle READ_AHEAD_LOCK;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      LOCAL_ADDRESS = lookup.findVarHandle(TimeWaitSocket.class, "localAddress", Object.class);
      ACTIVE_IO = lookup.findVarHandle(TimeWaitSocket.class, "activeIo", int.class);
      CLOSING = lookup.findVarHandle(TimeWaitSocket.class, "closing", boolean.class);
      CHECKING = lookup.findVarHandle(TimeWaitSocket.class, "checking", boolean.class);
      OPTION_CALLS = lookup.findVarHandle(TimeWaitSocket.class, "optionCalls", int.class);
      RETIRE_REASON =
          lookup.findVarHandle(TimeWaitSocket.class, "retireReason", CloseEvent.Reason.class);
      READ_AHEAD_LOCK = lookup.findVarHandle(TimeWaitSocket.class, "readAheadLock", ReentrantLock.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final TimeWaitSocketFactory factory;
  /**
   * Reads and writes under way on the socket (through {@link #ACTIVE_IO}): each read counts 1,
   * each write {@link #WRITE_UNIT}, so that the one number says whether any I/O is under way and
   * whether a write is.
   */
  private volatile int activeIo;
  /** {@link #ioFailed} as this socket's close began (HTTP/2's reasons). */
  private volatile boolean ioFailedBeforeClose;
  /**
   * A write was under way as this socket's close began (HTTP/2's reasons: the close wakes a
   * blocked write, whose end may come before the reason is decided).
   */
  private volatile boolean writeBeforeClose;
  /** What a write under way adds to {@link #activeIo}. */
  private static final int WRITE_UNIT = 1 << 16;
  /** Whether a close has begun; set once, by compare-and-set (through {@link #CLOSING}). */
  private volatile boolean closing;
  /** Orders connect()'s registration against close()'s reading of {@link #key}. */
  private final Object registration = new Object();
  /** A cancel, an interrupt or a shutdown asked the FIN wait to end now. */
  private volatile boolean abortRequested;
  /** Polled during the FIN wait: true ends it (a cancel the client only flags); may be null. */
  private volatile BooleanSupplier abortWhen;
  private volatile boolean armed;
  private volatile boolean ioFailed;
  private volatile boolean peerFinSeen;
  /** The peer reset the connection during a FIN wait begun beneath TLS ({@code finWaitRead}). */
  private volatile boolean peerResetInFinWait;
  /** Observing only: the client set SO_LINGER(0), so its close is an RST. */
  private volatile boolean lingerZero;
  /** Observing only: the client half-closed before the peer's FIN, so its FIN went first. */
  private volatile boolean finSentFirst;
  /** When the FIN wait ends, once a server close has begun; 0 before. */
  private volatile long finDeadline;
  private volatile TimeWaitSocketFactory.ConnectionKey key;
  /**
   * The connection's local address, which the JDK asks the kernel for on every {@link
   * #getLocalAddress()} (see {@link TimeWaitSocketFactory.ConnectionKey}): null until known (the
   * address bound to, or the first answer while connected), then an {@link InetAddress} for good;
   * {@link #LOCAL_ADDRESS_UNKNOWN} if the key needed it only once the socket was closed. Set from
   * null by compare-and-set only, and read again after it, so every reader sees the one value it
   * ever takes: the key's equality never changes.
   */
  private volatile Object localAddress;
  private InputStream in;
  private OutputStream out;

  // Pooled keep-alive: the reuse check (isClosed) and its bookkeeping. -1: not pooled.
  private final long staleCheckNanos;
  /** When a read or write last ended; only kept for pooled connections. */
  private volatile long lastIoNanos = System.nanoTime();
  /**
   * When a read last ended; pooled connections only. Over TLS the close writes close_notify
   * first, so the last I/O is no measure of how soon after the peer's bytes the client closed.
   */
  private volatile long lastReadNanos = System.nanoTime();
  /** When connect() completed. */
  private volatile long connectedNanos = System.nanoTime();
  /**
   * Whether the last I/O was a read: a connection between exchanges last read a response. One
   * whose last I/O was a write is inside an exchange (request sent, response not read yet), and is
   * never checked: the JDK asks isClosed() inside its own socket methods too.
   */
  private volatile boolean lastIoWasRead;
  /** Idle time after which the connection retires (the peer's announced timeout); -1: none. */
  private volatile long retireAfterIdleNanos = -1;
  /** A reuse check is under way (through {@link #CHECKING}). */
  private volatile boolean checking;
  /**
   * Socket-option calls under way. The JDK's option methods ask {@code isClosed()} first and throw
   * "Socket is closed" if it says so; a reuse check run from there, finding the peer gone, would
   * close the socket under a client that has already chosen it (OkHttp sets the read timeout after
   * its health check: measured in the balancer lab as "Socket is closed" failures). The check runs
   * only when a client asks {@code isClosed()} itself.
   */
  private volatile int optionCalls;
  /**
   * Guards the read-ahead buffer and {@link #reuseChecks}. A lock, not {@code synchronized}: the
   * reuse check reads under it for up to 1 ms, and on JDK 21-23 a virtual thread blocked in a read
   * inside a monitor pins its carrier thread (JEP 491 ended that in JDK 24). Made at the first
   * reuse check ({@link #readAheadLock()}, through {@link #READ_AHEAD_LOCK}): most connections
   * never have one (a connection per request, a pooled one never idle), and the lock is 48 bytes.
   */
  private volatile ReentrantLock readAheadLock;
  /** Reads the reuse check made, for tests; guarded by {@link #readAheadLock}. */
  private int reuseChecks;
  /** When a reuse check last found the connection alive (an hour ago before any: nanoTime may be negative). */
  private volatile long checkedAliveNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
  /** The peer, for what pooled keep-alive learns of its idle timeout; set once connected. */
  private volatile InetSocketAddress remote;
  /** Bytes read over the connection's life, pooled connections only: see {@link #bytesRead()}. */
  private volatile long bytesRead;
  /**
   * Pooled connections, reading thread only: how long the connection had sat idle after a read
   * when the client read again (a client's own stale check, HttpClient's 1 ms read), and the
   * bytes read since; -1 when the last read did not follow such a pause. End of stream (or a reset)
   * right after it, with at most a TLS alert between, is the peer's idle timeout: learned.
   */
  private long pauseNanos = -1;
  private long bytesSincePause;
  /**
   * Bytes a reuse check read ahead of the client (the check must read to see a FIN, and over TLS
   * the peer may have sent records the TLS layer has not read yet); the next reads return them
   * first. Guarded by {@link #readAheadLock}.
   */
  private byte[] readAhead;
  private int readAheadOff;
  private volatile int readAheadLen;

  // What the close record says of the connection (CloseEvent), as the adapter reported it.
  /** Requests the connection carried ({@code SocketControl.noteRequest}); -1 if never told. */
  private volatile long requests = -1;
  /** Why the connection retires, once decided (first reason stands); null before. */
  private volatile CloseEvent.Reason retireReason;
  /** A request was noted and no byte of a response has been read since. */
  private volatile boolean requestPending;
  /** A read timed out during an exchange (not a reuse check's read after an idle pause). */
  private volatile boolean timedOutInExchange;
  /**
   * An aborted FIN wait shut the input down (shutdown(SHUT_RD)): the end of stream that a read
   * begun before the wait then gets is ours, not the peer's FIN (taken for one, the close was
   * graceful: a FIN of the client's first, and client TIME_WAIT).
   */
  private volatile boolean inputShutByAbort;
  /** The socket layered over this one (an {@code SSLSocket}), once the factory looked it up. */
  private volatile Socket layer;

  /**
   * A socket whose connect asks the JVM's proxy selector first, as a plain {@code new Socket()}
   * does: for a JVM that may proxy sockets ({@link JvmSocketProxy}).
   */
  TimeWaitSocket(TimeWaitSocketFactory factory) {
    this.factory = factory;
    this.staleCheckNanos = factory.staleCheckNanos();
  }

  /**
   * A socket that connects directly ({@code proxy} is {@link Proxy#NO_PROXY}): where the JVM's
   * selector would answer NO_PROXY anyway, without asking it on every connect.
   */
  TimeWaitSocket(TimeWaitSocketFactory factory, Proxy proxy) {
    super(proxy);
    this.factory = factory;
    this.staleCheckNanos = factory.staleCheckNanos();
  }

  TimeWaitSocketFactory factory() {
    return factory;
  }

  void arm() {
    armed = true;
  }

  /** A request goes out: the connection's {@code requestsIncludingThis}-th. */
  void noteRequest(long requestsIncludingThis) {
    requests = requestsIncludingThis;
    requestPending = true;
    timedOutInExchange = false;
  }

  /** Sets why the connection retires, unless a reason was set before; whether it was set. */
  boolean retire(CloseEvent.Reason reason) {
    // A compare-and-set: an adapter's request cap and a reuse check's eviction may race, and the
    // first reason must stand for both (SocketControl.retire's contract).
    return !closing && RETIRE_REASON.compareAndSet(this, (CloseEvent.Reason) null, reason);
  }

  /** Whether a close of this socket has begun. */
  boolean closingStarted() {
    return closing;
  }

  /**
   * Notes {@code socket} as the one layered over this socket, if none was; whether it is that
   * one (only one socket is ever layered over a connection).
   */
  boolean layeredUnder(Socket socket) {
    if (layer == null) {
      layer = socket;
    }
    return layer == socket;
  }

  /** The socket layered over this one, once known; null before. */
  Socket layer() {
    return layer;
  }

  void arm(BooleanSupplier abortWhen) {
    this.abortWhen = abortWhen;
    armed = true;
  }

  /** Whether this thread is interrupted: the abort that an interrupt is; notes it if so. */
  private boolean interruptedNow() {
    if (Thread.currentThread().isInterrupted()) {
      abortRequested = true;
      return true;
    }
    return false;
  }

  /** Whether something asked this socket's FIN wait to end now; notes it if so. */
  private boolean abortAsked() {
    if (abortRequested || interruptedNow()) {
      return true;
    }
    if (factory.shuttingDown()) {
      // The client is shutting down: a FIN wait armed after its abortFinWaits() (an exchange
      // that ended meanwhile) would otherwise hold the closing thread, under HttpClient's pool
      // lock when the pool's shutdown closes it, for the whole bound.
      abortRequested = true;
      return true;
    }
    BooleanSupplier when = abortWhen;
    if (when != null && abortWhenAsks(when)) {
      abortRequested = true;
      return true;
    }
    return false;
  }

  /**
   * What {@code when} answers; true if it throws: the close is under way (CLOSING), so a failure
   * that escaped it would leave the socket open, uncounted, and every later close() a no-op.
   */
  private static boolean abortWhenAsks(BooleanSupplier when) {
    try {
      return when.getAsBoolean();
    } catch (Throwable e) {
      CallbackFailures.rethrowFatal(e);
      if (ABORT_WHEN_FAILED_WARNED.compareAndSet(false, true)) {
        log.warn("an abortWhen supplier threw; its FIN waits end as aborts, with an RST (logged once;"
            + " later ones at debug)", e);
      } else {
        log.debug("an abortWhen supplier threw; the FIN wait ends as an abort", e);
      }
      return true;
    }
  }

  /** Starts the FIN wait's clock, once: at TLS's close_notify, or at close(). */
  private long startFinWait() {
    long deadline = finDeadline;
    if (deadline == 0) {
      deadline = System.nanoTime() + factory.finWaitNanos();
      finDeadline = deadline;
    }
    return deadline;
  }

  /**
   * A read timed out. Unarmed, that is a stale check or a response timeout on a connection the
   * client may still use or will close unarmed (a reset) anyway. Armed, and before the FIN wait
   * began, the response the exchange was waiting for never came whole: the exchange is aborted,
   * so a later close resets at once instead of waiting for a FIN that a server still sending (or
   * stalled) would not send.
   */
  private void readTimedOut() {
    if (armed && finDeadline == 0) {
      ioFailed = true;
    }
    if (pauseNanos < 0) {
      timedOutInExchange = true; // not a reuse check's read after an idle pause
    }
  }

  /**
   * Ends the FIN wait of this socket's server close now, with an RST, or makes a close not begun
   * yet reset without waiting. Counted as a FIN-wait abort if the connection was armed. Any
   * thread.
   */
  void abortFinWait() {
    abortRequested = true;
    if (finDeadline != 0) {
      inputShutByAbort = true; // before the shutdown: a read it ends must see it
      // A FIN wait is under way: shutdown(SHUT_RD) wakes its read at once (Linux sends nothing
      // on the wire for it); the waiting thread sees the request and resets. Without it the
      // read would still end within one slice.
      try {
        super.shutdownInput();
      } catch (IOException e) {
        // closed or shut already: the wait is over or ends within a slice
      }
    }
  }

  boolean isArmed() {
    return armed;
  }

  /** How long ago the connection was established, in nanoseconds. */
  long ageNanos() {
    return System.nanoTime() - connectedNanos;
  }

  /**
   * Binds as {@link Socket#bind} does, and notes an IPv4 address bound to: a socket bound to a
   * specific address connects from it (the kernel chooses a source address only for an unbound
   * or wildcard socket), so it need not be asked for later. (An IPv6 address may be an
   * IPv4-mapped one, which the kernel reports as IPv4: those are asked for when needed.)
   */
  @Override
  public void bind(SocketAddress bindpoint) throws IOException {
    super.bind(bindpoint);
    if (bindpoint instanceof InetSocketAddress) {
      InetAddress address = ((InetSocketAddress) bindpoint).getAddress();
      if (address instanceof Inet4Address && !address.isAnyLocalAddress()) {
        LOCAL_ADDRESS.compareAndSet(this, null, address);
      }
    }
  }

  /**
   * As {@link Socket#getLocalAddress()}, without asking the kernel again once the address is
   * known: a connection's local address does not change while it is open. Closed, not connected
   * yet or under a security manager, it answers as {@code Socket} does (the wildcard once closed).
   * What it learns serves the connection's key, so a client that asks (HttpClient's endpoint
   * details) spares the factory's lookups the question, and the other way round.
   */
  @Override
  @SuppressWarnings("removal") // the security manager: answered as Socket does while one is set
  public InetAddress getLocalAddress() {
    Object known = localAddress;
    boolean plain = System.getSecurityManager() == null;
    if (known instanceof InetAddress && plain && !super.isClosed()) {
      return (InetAddress) known;
    }
    InetAddress address = super.getLocalAddress();
    if (known == null && plain && isConnected() && !address.isAnyLocalAddress()) {
      LOCAL_ADDRESS.compareAndSet(this, null, address); // unless known already
    }
    return address;
  }

  /**
   * The local address for this connection's key ({@link TimeWaitSocketFactory.ConnectionKey}):
   * known, or asked of the kernel once (two {@code getsockname}); null if the socket was closed
   * before anything needed it. Once it has answered, it answers the same for good. Any thread.
   */
  InetAddress localAddressForKey() {
    Object known = localAddress;
    if (known == null) {
      InetAddress address = super.getLocalAddress();
      // The wildcard: the socket is closed (the JDK's answer then): unknown for good.
      LOCAL_ADDRESS.compareAndSet(this, null,
          address.isAnyLocalAddress() ? LOCAL_ADDRESS_UNKNOWN : address);
      known = localAddress; // another thread's answer if it came first: the same for everyone
    }
    return known instanceof InetAddress ? (InetAddress) known : null;
  }

  @Override
  public void connect(SocketAddress endpoint, int timeout) throws IOException {
    if (factory.retirement() != null) {
      // Before the SYN: a close from another thread (a cancel) can land during the handshake, or
      // after the kernel completed it but before this connection is registered. That close sees
      // no connection of ours, and with SO_LINGER(0) it still sends an RST, not a FIN that would
      // leave TIME_WAIT here.
      super.setSoLinger(true, 0);
    }
    super.connect(endpoint, timeout);
    connectedNanos = System.nanoTime();
    // No system call: the key's local address is asked for only if another key shares the rest.
    TimeWaitSocketFactory.ConnectionKey k = TimeWaitSocketFactory.ConnectionKey.of(this);
    synchronized (registration) {
      if (!closing) {
        key = k;
        remote = new InetSocketAddress(k.remoteAddress(), k.remotePort());
        factory.connected(this, k);
        return;
      }
    }
    // A close began before the connection was registered: it closed the socket (with an RST)
    // and counted nothing, so nothing is counted here either.
    throw new SocketException("Socket is closed");
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (in == null) {
      in = new Input(super.getInputStream());
    }
    return in;
  }

  @Override
  public synchronized OutputStream getOutputStream() throws IOException {
    if (out == null) {
      out = new Output(super.getOutputStream());
    }
    return out;
  }

  /**
   * Swallowed unless the factory only observes: a half-close here would send a FIN before the
   * strategy's close. The JDK's {@code SSLSocket.close()} calls it on the socket beneath TLS.
   */
  @Override
  public void shutdownOutput() throws IOException {
    if (factory.retirement() == null) {
      if (!peerFinSeen) {
        finSentFirst = true; // observing: this FIN went before the peer's; TIME_WAIT stays here
      }
      super.shutdownOutput();
    }
  }

  /** Swallowed unless the factory only observes; see {@link #shutdownOutput()}. */
  @Override
  public void shutdownInput() throws IOException {
    if (factory.retirement() == null) {
      super.shutdownInput();
    }
  }

  /**
   * Ignored unless the factory only observes: the strategy decides how this socket closes. (HTTP
   * clients set {@code SO_LINGER(0)} before some closes, and HttpClient's classic client passes
   * milliseconds where Java takes seconds.)
   */
  @Override
  public void setSoLinger(boolean on, int linger) throws SocketException {
    if (factory.retirement() == null) {
      super.setSoLinger(on, linger);
      lingerZero = on && linger == 0; // observing: the close will be an RST
    }
  }

  /**
   * As {@link #setSoLinger}: SO_LINGER through the generic option call (which goes to the socket
   * implementation past setSoLinger; an SSLSocket layered over this one passes it down here) is
   * ignored unless the factory only observes. Otherwise it would lift the SO_LINGER(0) that every
   * reset relies on since connect, and the JDK's close would send a FIN first.
   */
  @Override
  public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
    if (name == StandardSocketOptions.SO_LINGER && factory.retirement() != null) {
      return this;
    }
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      Socket result = super.setOption(name, value);
      if (name == StandardSocketOptions.SO_LINGER) {
        lingerZero = Integer.valueOf(0).equals(value); // observing, as setSoLinger; negative: off
      }
      return result;
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  @Override
  public <T> T getOption(SocketOption<T> name) throws IOException {
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      return super.getOption(name);
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  /**
   * Bytes this pooled connection has read from the peer (those a reuse check read ahead count when
   * the client takes them); 0 for other connections. Adapters compare two readings to tell a
   * request that failed unanswered from one whose response had begun.
   */
  long bytesRead() {
    return bytesRead;
  }

  /** Whether the peer's FIN was read, or the socket's I/O failed (the peer's RST, say). */
  boolean peerEndedOrFailed() {
    return peerFinSeen || ioFailed;
  }

  // The option methods clients call between choosing a pooled connection and writing to it; the
  // JDK's versions ask isClosed() first (see optionCalls).

  @Override
  public void setSoTimeout(int timeout) throws SocketException {
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      super.setSoTimeout(timeout);
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  @Override
  public int getSoTimeout() throws SocketException {
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      return super.getSoTimeout();
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  @Override
  public void setTcpNoDelay(boolean on) throws SocketException {
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      super.setTcpNoDelay(on);
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  @Override
  public void setKeepAlive(boolean on) throws SocketException {
    OPTION_CALLS.getAndAdd(this, 1);
    try {
      super.setKeepAlive(on);
    } finally {
      OPTION_CALLS.getAndAdd(this, -1);
    }
  }

  int reuseChecks() {
    ReentrantLock lock = readAheadLock();
    lock.lock();
    try {
      return reuseChecks;
    } finally {
      lock.unlock();
    }
  }

  void retireWhenIdle(long afterIdleNanos) {
    retireAfterIdleNanos = afterIdleNanos;
  }

  /**
   * Closed, or, for a pooled connection, found unfit for reuse and closed now. Clients ask this
   * before they reuse a pooled connection (OkHttp's {@code isHealthy} asks it of every pooled
   * connection it hands out), so this is where a connection whose peer has already closed it
   * retires instead of carrying a request into a dead socket (OkHttp probes only connections idle
   * for 10 s, and only for non-GET requests). Idle for {@code staleCheckAfterIdle} or longer since
   * it last read a response, the connection is read with a 1 ms timeout: the peer's FIN or RST is
   * already in the socket if it closed (over TLS after its close_notify, which the read keeps for
   * the TLS layer). A connection past the idle time its peer announced retires without a read.
   */
  @Override
  public boolean isClosed() {
    if (super.isClosed()) {
      return true;
    }
    if (staleCheckNanos < 0 || key == null || closing || armed || finDeadline != 0
        || activeIo > 0 || optionCalls > 0 || !CHECKING.compareAndSet(this, false, true)) {
      return false; // not pooled, not connected, closing, in use, or checked by another thread
    }
    try {
      if (!lastIoWasRead) {
        return false; // new, or inside an exchange: nothing to reuse yet
      }
      long lastIo = lastIoNanos;
      long idle = System.nanoTime() - lastIo;
      long announced = retireAfterIdleNanos;
      if (idle < MIN_LEARNED_NANOS && idle < staleCheckNanos && (announced < 0 || idle < announced)) {
        return false; // busy: nothing to check, nothing learned applies this soon (the hot path)
      }
      if (multiplexed()) {
        // HTTP/2: the client's reader thread reads this socket for the connection's whole life and
        // sees the peer's close itself; OkHttp asks a shared connection isClosed() as it hands it
        // to each call, between the reader's reads. A check there read beside the reader: its
        // read ran under the check's 1 ms timeout (SocketTimeoutException), or TLS records came
        // out of order, failing every stream (Http2Test, staleCheckAfterIdle 0).
        return false;
      }
      long learned = factory.accounting().peerIdleTimeouts().retireAfterIdleNanos(remote);
      long retireAfter = announced < 0 ? learned : learned < 0 ? announced : Math.min(announced, learned);
      // A peer that was seen to close sooner than the check's threshold is checked sooner too.
      long checkAfter = learned < 0 ? staleCheckNanos : Math.min(staleCheckNanos, learned);
      // One check per reuse: a client asks isClosed() more than once before it writes (OkHttp's
      // health check asks of the raw socket and of the socket over it, the same one over plain
      // HTTP), and each read would wait its 1 ms again on a live connection. A check is fresh for
      // CHECK_FRESH_NANOS and only until the connection's next exchange: with a threshold under
      // it (Duration.ZERO: every reuse), a reuse right after an exchange is checked again.
      long checked = checkedAliveNanos;
      boolean fresh = checked - lastIo >= 0 && idle + lastIo - checked < CHECK_FRESH_NANOS;
      boolean due = idle >= checkAfter && !fresh;
      boolean peerClosed = due && peerClosedWhileIdle();
      if (closing) {
        // A close of ours ended the check (another thread's; or the JDK's own call of close()
        // from the read of an interrupted virtual thread, JDK 21+): not the peer's. Say what the
        // socket is now, so that a client never writes into a socket closed under its check.
        return super.isClosed();
      }
      if (due && !peerClosed) {
        checkedAliveNanos = System.nanoTime();
      }
      if (peerClosed) {
        peerClosedAfterIdle(idle);
        closeAfterPeerClosedWhileIdle();
        return true;
      }
      if (retireAfter >= 0 && idle >= retireAfter) {
        // Idle past the peer's announced or learned idle timeout, evicted before the peer closes
        // it (a retirement at 0 was the peer's announcement: the adapter said so already).
        retire(retireAfter == 0 ? CloseEvent.Reason.PEER_ANNOUNCED : CloseEvent.Reason.IDLE_EVICTION);
        close(); // the strategy's retirement: a reset (nothing armed it for a FIN wait)
        return true;
      }
      return false;
    } catch (IOException e) {
      // The socket failed under the check (a close racing it: restoring the read timeout found it
      // closed): say whether it is closed; if not, the client's next I/O will see what it is.
      return super.isClosed();
    } finally {
      checking = false;
    }
  }

  /**
   * Reads what the peer sent while the connection was idle, with a 1 ms timeout, into the
   * read-ahead buffer: whether the peer's FIN (end of stream) or RST arrived.
   */
  private boolean peerClosedWhileIdle() throws IOException {
    ReentrantLock lock = readAheadLock();
    lock.lock();
    try {
      return readWhileIdle();
    } finally {
      lock.unlock();
    }
  }

  /** The read-ahead lock, made by whichever thread needs it first. */
  private ReentrantLock readAheadLock() {
    ReentrantLock lock = readAheadLock;
    if (lock == null) {
      ReentrantLock made = new ReentrantLock();
      lock = (ReentrantLock) READ_AHEAD_LOCK.compareAndExchange(this, null, made);
      if (lock == null) {
        lock = made;
      }
    }
    return lock;
  }

  private boolean readWhileIdle() throws IOException {
    reuseChecks++;
    InputStream raw = super.getInputStream();
    int saved = super.getSoTimeout();
    try {
      super.setSoTimeout(1); // the JDK reads at once first and waits only if nothing is there
      if (readAhead == null) {
        readAhead = new byte[8192];
      }
      if (readAheadOff > 0) {
        System.arraycopy(readAhead, readAheadOff, readAhead, 0, readAheadLen);
        readAheadOff = 0;
      }
      while (readAheadLen < readAhead.length) {
        int n = raw.read(readAhead, readAheadLen, readAhead.length - readAheadLen);
        if (n < 0) {
          peerFinSeen = true;
          return true;
        }
        readAheadLen += n;
      }
      return false; // a full buffer of unasked-for data: the client will read it and decide
    } catch (SocketTimeoutException alive) {
      return false;
    } catch (IOException reset) {
      if (endedByUs()) {
        return false; // not the peer's close, nor its idle timeout (isClosed says what the socket is)
      }
      ioFailed = true;
      return true; // an RST: the peer is gone
    } finally {
      if (!super.isClosed()) {
        super.setSoTimeout(saved);
      }
    }
  }

  /**
   * Whether the peer's FIN or RST is in the socket as the client closes it: the reuse check's 1 ms
   * read (run only after an idle pause and a few bytes, on a rare path), skipped while a check
   * runs.
   */
  private boolean peerGoneAtClose() {
    if (!CHECKING.compareAndSet(this, false, true)) {
      return false;
    }
    try {
      return peerClosedWhileIdle();
    } catch (IOException e) {
      return false; // failed under the read: nothing to learn from
    } finally {
      checking = false;
    }
  }

  /** The peer closed first while the connection sat idle: a FIN after its FIN, counted once. */
  private void closeAfterPeerClosedWhileIdle() throws IOException {
    if (!CLOSING.compareAndSet(this, false, true)) {
      return;
    }
    TimeWaitSocketFactory.ConnectionKey k;
    synchronized (registration) {
      k = key;
    }
    String how = "peer closed while idle";
    try {
      if (ioFailed) {
        how = "peer reset while idle";
        try {
          super.close(); // the peer reset it: nothing left to send
        } finally {
          record(CloseOutcome.PEER_RESET, CloseEvent.Reason.PEER_CLOSED_IDLE);
        }
      } else {
        try {
          gracefulClose();
        } finally {
          record(CloseOutcome.AFTER_PEER_FIN, CloseEvent.Reason.PEER_CLOSED_IDLE);
        }
      }
    } finally {
      factory.closed(this, k, how);
    }
  }

  /** Serves bytes a reuse check read ahead; -1 if there are none. */
  private int takeReadAhead(byte[] b, int off, int len) {
    ReentrantLock lock = readAheadLock();
    lock.lock();
    try {
      if (readAheadLen == 0) {
        return -1;
      }
      int n = Math.min(len, readAheadLen);
      System.arraycopy(readAhead, readAheadOff, b, off, n);
      readAheadOff += n;
      readAheadLen -= n;
      return n;
    } finally {
      lock.unlock();
    }
  }

  /** Before a read of a pooled connection: notes the idle pause since its last read, if any. */
  private void notePause() {
    if (staleCheckNanos < 0 || !lastIoWasRead) {
      return;
    }
    long pause = System.nanoTime() - lastIoNanos;
    if (pause >= MIN_LEARNED_NANOS) {
      pauseNanos = pause;
      bytesSincePause = 0;
    }
  }

  private void readAfterPause(int n) {
    if (pauseNanos >= 0 && (bytesSincePause += n) > TimeWaitSocketFactory.TLS_ALERT_BYTES) {
      pauseNanos = -1; // data, not the peer's close: the pause was no idle timeout
    }
  }

  /**
   * Whether a read that failed now was ended by us, not by the peer: a close of ours began
   * (another thread's, a client's shutdown or a cancel; since JDK 19 {@code Socket.close()} is not
   * synchronized, so it can cut a read under way), or this thread is interrupted (on JDK 21+ the
   * JDK itself calls {@code close()} from an interrupted virtual thread's read, "Closed by
   * interrupt"). Such a failure is neither the peer's close nor its idle timeout to learn.
   */
  private boolean endedByUs() {
    return closing || Thread.currentThread().isInterrupted();
  }

  /**
   * The peer ended the connection (FIN or RST) right after an idle pause: its idle timeout. Not
   * where the connection was retiring already (its last request, or a response that said it ends
   * the connection: the adapter told so as the head came): that end is the exchange's, and the
   * pause the client's own, inside a response whose body ends at the peer's close (a client that
   * read "abc", worked 250 ms, then read the end taught the peer's idle timeout as 250 ms, and
   * every pooled connection to it then retired after 200 ms idle).
   */
  private void peerEndedAfterPause() {
    long pause = pauseNanos;
    pauseNanos = -1;
    if (pause >= 0 && !armed && retireReason == null) {
      peerClosedAfterIdle(pause);
    }
  }

  /**
   * The peer closed this pooled connection after it sat idle {@code idle}: counted, and learned as
   * its idle timeout unless the last response had already ended the connection (HTTP/1.0 without
   * keep-alive, {@code max=0}: retire-after 0), whose close teaches nothing.
   */
  private void peerClosedAfterIdle(long idle) {
    retire(CloseEvent.Reason.PEER_CLOSED_IDLE);
    if (retireAfterIdleNanos != 0 && remote != null) {
      factory.accounting().peerIdleTimeouts().observeClosedAfterIdle(remote, idle);
    }
    factory.accounting().recordClosedIdleByPeer();
  }

  private void ioEnded(boolean read) {
    if (staleCheckNanos >= 0) {
      long now = System.nanoTime();
      lastIoNanos = now;
      if (read) {
        lastReadNanos = now;
      }
      lastIoWasRead = read;
      if (!read && bytesSincePause == 0) {
        pauseNanos = -1; // a request went out: whatever follows answers it
      }
      // (After alert-sized bytes from the peer, a write is the client's own close_notify in
      // reply, with close() next: the pause still tells the peer's idle timeout.)
    }
  }

  @Override
  public void close() throws IOException {
    if (pauseNanos >= 0 && bytesSincePause > 0 && activeIo == 0 && !endedByUs()
        && System.nanoTime() - lastReadNanos < MIN_LEARNED_NANOS && peerGoneAtClose()) {
      // Over TLS, a client's own stale check reads the peer's close_notify (one alert record)
      // after the idle pause, and closes at once without reading the FIN behind it: the idle
      // timeout too. Only if the FIN (or an RST) is there: a stream's small last chunk after a
      // pause, then the pool's close, reads the same on this socket with the peer still there.
      // Not while a read is under way: that close is a cancel of ours in the middle of a body
      // that paused, and teaches nothing of the peer; nor on a second close, nor on an interrupt
      // (endedByUs).
      peerEndedAfterPause();
    }
    if (!CLOSING.compareAndSet(this, false, true)) {
      // Another thread is closing this socket the strategy's way; never cut that short. A second
      // close is no sign of a cancel: OkHttp's pool cleanup can close a connection that just
      // became idle while the call's own thread closes it. Cancels come through abortFinWait,
      // an abortWhen supplier or an interrupt instead.
      return;
    }
    ioFailedBeforeClose = ioFailed;
    writeBeforeClose = activeIo >= WRITE_UNIT;
    TimeWaitSocketFactory.ConnectionKey k;
    synchronized (registration) {
      k = key;
    }
    if (k == null) {
      // Not registered: never connected, or this close raced connect(), which will not register
      // it. SO_LINGER(0), set before the SYN unless observing, makes this an RST if the kernel
      // has a connection by now.
      super.close();
      return;
    }
    String how = "failed";
    try {
      how = closeConnected();
    } finally {
      factory.closed(this, k, how);
    }
  }

  private String closeConnected() throws IOException {
    Retirement retirement = factory.retirement();
    if (retirement == null) {
      // Observing: exactly a plain socket's close, counted as the kernel sees it: an RST where the
      // client set SO_LINGER(0) (HttpClient 5 classic's CloseMode.IMMEDIATE), else its FIN first
      // unless the peer's came before (a half-close before the peer's FIN was the client's first).
      return finish(lingerZero ? CloseOutcome.RESET
          : peerFinSeen && !finSentFirst ? CloseOutcome.AFTER_PEER_FIN : CloseOutcome.LOCAL_FIRST);
    }
    return retirement == Retirement.RESET ? finish(CloseOutcome.RESET) : serverClose();
  }

  private String serverClose() throws IOException {
    if (peerFinSeen) {
      return finish(CloseOutcome.AFTER_PEER_FIN);
    }
    if (peerResetInFinWait) {
      return finish(CloseOutcome.PEER_RESET); // during the wait TLS's close began beneath it
    }
    if (!armed || super.isClosed()) {
      reset(false);
      return "reset: not armed";
    }
    if (finDeadline != 0 && activeIo > 0) {
      // Another thread reads beneath TLS for the peer's close_notify: the FIN wait began there
      // (SSLSocket.close() has not reached this socket yet). This close, from elsewhere, cuts it
      // short with an RST (as before this counter existed), so it counts as an abort.
      abortRequested = true;
    } else if (ioFailed || activeIo > 0) {
      reset(true);
      return "reset: exchange aborted";
    }
    CloseOutcome outcome;
    try {
      outcome = abortAsked() ? CloseOutcome.FIN_WAIT_ABORTED : awaitPeerFin();
    } catch (RuntimeException | Error e) {
      // Only what abortWhenAsks lets through (a VirtualMachineError) or a bug gets here, with the
      // close under way (CLOSING): left open, the socket would stay uncounted and every later
      // close() a no-op. So it ends as an abort would, then the failure goes on.
      try {
        finish(CloseOutcome.FIN_WAIT_ABORTED);
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return finish(outcome);
  }

  /**
   * Closes the socket as {@code outcome} says (a FIN after the peer's, a plain close, or an RST)
   * and records it; returns how, for the log.
   */
  private String finish(CloseOutcome outcome) throws IOException {
    try {
      switch (outcome) {
        case AFTER_PEER_FIN:
          if (factory.retirement() == null) {
            super.close();
          } else {
            gracefulClose();
          }
          break;
        case LOCAL_FIRST:
        case PEER_RESET:
          super.close();
          break;
        default:
          resetSocket();
          break;
      }
    } finally {
      // Recorded even if close(2) failed (the JDK releases the descriptor all the same): every
      // connection counted open is counted closed.
      record(outcome, reasonOf(outcome, false));
    }
    switch (outcome) {
      case AFTER_PEER_FIN:
        return "after peer FIN";
      case LOCAL_FIRST:
        return "client closed first";
      case PEER_RESET:
        return "peer reset";
      case FIN_WAIT_TIMEOUT:
        return "reset: FIN wait timed out";
      case FIN_WAIT_ABORTED:
        return "reset: FIN wait aborted";
      case UNREAD_DATA:
        return "reset: unread data";
      case RESET:
      default:
        return "reset";
    }
  }

  /**
   * The close after the peer's FIN: a FIN of our own, the TIME_WAIT staying with the peer, which
   * closed first. SO_LINGER(0), set before connect, would turn it into an RST and rob the peer of
   * its TIME_WAIT, so it is lifted first.
   */
  private void gracefulClose() throws IOException {
    try {
      if (!super.isClosed()) {
        super.setSoLinger(false, 0);
      }
    } catch (SocketException e) {
      // already dead: the close below sends nothing
    }
    super.close();
  }

  /** Closes with an RST and records it; {@code cut}: the exchange failed or is under way. */
  private void reset(boolean cut) throws IOException {
    CloseEvent.Reason reason = reasonOf(CloseOutcome.RESET, cut); // as found, before the RST
    try {
      resetSocket();
    } finally {
      record(CloseOutcome.RESET, reason);
    }
  }

  /**
   * Why the connection closes ({@link CloseReasons}), from what the adapter reported ({@code
   * SocketControl.retire}, {@code noteRequest}, {@code clientShuttingDown}) and what this socket
   * saw; {@code cut}: the caller found the exchange failed or under way.
   */
  private CloseEvent.Reason reasonOf(CloseOutcome outcome, boolean cut) {
    CloseStrategy strategy = factory.strategy();
    long carried = requests;
    // A request went out and no byte of its response came: the exchange was cut.
    boolean pending = carried > 0 && requestPending;
    // Over TLS the close writes close_notify before it reaches this socket, so "idle" is judged
    // by the adapter's requests where it reports them, else by the last I/O being a read.
    boolean idle = carried > 0 ? !requestPending : carried < 0 && lastIoWasRead;
    int facts = 0;
    // Over HTTP/2 the client's reader thread keeps a read under way for the connection's whole
    // life (OkHttp's Http2Reader), idle or not, and the JDK's TLS close reads for the peer's
    // close_notify: reads there are no exchange under way (before, every HTTP/2 close read as
    // EXCHANGE_ABORTED, the pool's idle eviction too); a write under way is. The close itself ends
    // the reader's read with a failure, and may end a blocked write before this runs: so there
    // the write and the failure count as they stood when the close began. (A connection the
    // client fails with neither, as OkHttp on a ping timeout, then reads as the pool's close.)
    boolean multiplexed = multiplexed();
    int io = activeIo;
    boolean ioUnderWay = io >= WRITE_UNIT || (multiplexed ? writeBeforeClose : io != 0);
    boolean failed = multiplexed ? ioFailedBeforeClose : ioFailed;
    if (cut || pending || failed || ioUnderWay || timedOutInExchange) {
      facts |= CloseReasons.EXCHANGE_CUT;
    }
    if (idle) {
      facts |= CloseReasons.IDLE;
    }
    if (peerFinSeen && (idle || pending && carried > 1)) {
      // The FIN came between exchanges, or before any byte answered the request sent next on a
      // reused connection; a fresh connection's first request sat idle nowhere: a cut exchange.
      facts |= CloseReasons.PEER_CLOSED_WHILE_IDLE;
    }
    if (factory.shuttingDown()) {
      facts |= CloseReasons.SHUTTING_DOWN;
    }
    return CloseReasons.decide(strategy == null ? null : strategy.kind(), outcome, retireReason, facts);
  }

  /** Whether TLS beneath the client negotiated HTTP/2 (ALPN "h2"): a multiplexed connection. */
  private boolean multiplexed() {
    Socket l = layer;
    if (!(l instanceof javax.net.ssl.SSLSocket)) {
      return false;
    }
    try {
      return "h2".equals(((javax.net.ssl.SSLSocket) l).getApplicationProtocol());
    } catch (RuntimeException e) {
      return false; // an SSLSocket without ALPN (UnsupportedOperationException): not HTTP/2
    }
  }

  /** Counts the close on the factory's accounting, with what this socket knows of it. */
  private void record(CloseOutcome outcome, CloseEvent.Reason reason) {
    CloseStrategy strategy = factory.strategy();
    long deadline = finDeadline;
    factory.accounting().recordClose(outcome, reason, remote,
        strategy == null ? null : strategy.kind(), requests, connectedNanos,
        deadline == 0 ? CloseAccounting.NO_TIME : deadline - factory.finWaitNanos());
  }

  /**
   * Closes with an RST. Only connections that {@code connect} registered under a strategy get here,
   * and it set SO_LINGER(0) before the SYN; only the graceful close lifts it, and that one closes
   * the socket. The client's own {@code setSoLinger} is ignored under a strategy: no second
   * setsockopt is needed.
   */
  private void resetSocket() throws IOException {
    super.close();
  }

  /** Waits for the peer's FIN: {@link CloseOutcome#AFTER_PEER_FIN} or how the wait failed. */
  private CloseOutcome awaitPeerFin() {
    long deadline = startFinWait();
    byte[] buffer = DISCARDED;
    int drained = 0;
    try {
      InputStream raw = super.getInputStream();
      while (true) {
        int n = readSlices(raw, buffer, 0, buffer.length, deadline);
        if (n == SLICE_TIMED_OUT) {
          return CloseOutcome.FIN_WAIT_TIMEOUT;
        }
        if (n == SLICE_ABORTED) {
          return CloseOutcome.FIN_WAIT_ABORTED;
        }
        if (n < 0) {
          return CloseOutcome.AFTER_PEER_FIN;
        }
        drained += n;
        if (drained > CloseOutcome.MAX_DRAIN_BYTES) {
          return CloseOutcome.UNREAD_DATA;
        }
      }
    } catch (IOException e) {
      // An interrupted virtual thread's read (JDK 21+) does not wait for the next slice: the JDK
      // calls close() (this one, which returns at once: a close is under way) and throws "Closed
      // by interrupt", the interrupt flag still set. That is the caller's abort, not the peer's
      // reset; finish() then resets.
      return abortRequested || interruptedNow()
          ? CloseOutcome.FIN_WAIT_ABORTED : CloseOutcome.PEER_RESET;
    }
  }

  /**
   * One read of the FIN wait, in slices of at most {@link #FIN_WAIT_SLICE_MILLIS}: bytes read,
   * -1 at the peer's FIN, {@link #SLICE_TIMED_OUT} once {@code deadline} passed, or {@link
   * #SLICE_ABORTED} once an abort was asked for or the thread was interrupted (its interrupt flag
   * stays set, for the caller).
   */
  private int readSlices(InputStream raw, byte[] b, int off, int len, long deadline)
      throws IOException {
    while (true) {
      if (abortAsked()) {
        return SLICE_ABORTED;
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        return SLICE_TIMED_OUT;
      }
      super.setSoTimeout((int) Math.max(1,
          Math.min(FIN_WAIT_SLICE_MILLIS, TimeUnit.NANOSECONDS.toMillis(remaining))));
      try {
        int n = raw.read(b, off, len);
        if (n < 0 && abortRequested) {
          return SLICE_ABORTED; // the end of stream of abortFinWait's shutdownInput, not a FIN
        }
        return n;
      } catch (SocketTimeoutException e) {
        // the slice passed: check for an abort and the deadline, then read on
      }
    }
  }

  /**
   * A read beneath TLS once the FIN wait began (the JDK's {@code SSLSocket.close()} reading for
   * the peer's close_notify): bounded by what is left of the wait, and ended by an abort or an
   * interrupt like the wait itself.
   */
  private int finWaitRead(InputStream raw, byte[] b, int off, int len, long deadline)
      throws IOException {
    ACTIVE_IO.getAndAdd(TimeWaitSocket.this, 1);
    try {
      int n = readSlices(raw, b, off, len, deadline);
      if (n == SLICE_TIMED_OUT) {
        throw new SocketTimeoutException("FIN wait over");
      }
      if (n == SLICE_ABORTED) {
        throw new SocketException("FIN wait aborted");
      }
      if (n < 0) {
        peerFinSeen = true;
      }
      return n;
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException e) {
      if (!abortRequested && !interruptedNow()) { // see awaitPeerFin: an interrupt is an abort
        // The exchange was over (armed): the peer's reset ends the wait, as it ends this close's
        // own wait over plain TCP (PEER_RESET), not a failed exchange.
        peerResetInFinWait = true;
      }
      throw e;
    } finally {
      ACTIVE_IO.getAndAdd(TimeWaitSocket.this, -1);
    }
  }

  /** Notes I/O under way, failures and the peer's FIN. Allocates nothing per call. */
  private final class Input extends InputStream {
    private final InputStream delegate;

    Input(InputStream delegate) {
      this.delegate = delegate;
    }

    @Override
    public int read() throws IOException {
      long deadline = finDeadline;
      if (deadline != 0) {
        byte[] one = new byte[1]; // only while TLS closes: never on the exchange's hot path
        int n;
        do {
          n = finWaitRead(delegate, one, 0, 1, deadline);
        } while (n == 0);
        return n < 0 ? -1 : one[0] & 0xff;
      }
      ACTIVE_IO.getAndAdd(TimeWaitSocket.this, 1);
      try {
        if (readAheadLen > 0) {
          byte[] one = new byte[1]; // only after a reuse check read ahead: rare
          if (takeReadAhead(one, 0, 1) == 1) {
            requestPending = false;
            bytesRead++;
            return one[0] & 0xff;
          }
        }
        notePause();
        int b = delegate.read();
        if (b < 0) {
          if (!inputShutByAbort) {
            peerFinSeen = true;
            peerEndedAfterPause();
          }
        } else if (requestPending) {
          requestPending = false; // the response began
          timedOutInExchange = false; // see read(byte[], int, int)
        }
        if (b >= 0 && staleCheckNanos >= 0) {
          bytesRead++; // one thread reads at a time
          readAfterPause(1);
        }
        return b;
      } catch (SocketTimeoutException e) {
        readTimedOut();
        throw e;
      } catch (IOException e) {
        ioFailed = true;
        if (!endedByUs()) {
          peerEndedAfterPause();
        }
        throw e;
      } finally {
        ACTIVE_IO.getAndAdd(TimeWaitSocket.this, -1);
        ioEnded(true);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      long deadline = finDeadline;
      if (deadline != 0) {
        return finWaitRead(delegate, b, off, len, deadline);
      }
      ACTIVE_IO.getAndAdd(TimeWaitSocket.this, 1);
      try {
        if (readAheadLen > 0 && len > 0) {
          int ahead = takeReadAhead(b, off, len);
          if (ahead > 0) {
            requestPending = false;
            bytesRead += ahead;
            return ahead;
          }
        }
        notePause();
        int n = delegate.read(b, off, len);
        if (n < 0) {
          if (!inputShutByAbort) {
            peerFinSeen = true;
            peerEndedAfterPause();
          }
        } else if (n > 0 && requestPending) {
          requestPending = false; // the response began
          // After a timeout, if any: a wait that a timeout ends by design before the response,
          // as HttpCore's for a 100 Continue (3 s) from a server that ignores Expect, is no cut.
          // (A timeout once the response began stays one: a close's TLS drain reading late
          // bytes of a timed-out body does not clear it.)
          timedOutInExchange = false;
        }
        if (n >= 0 && staleCheckNanos >= 0) {
          bytesRead += n; // one thread reads at a time
          readAfterPause(n);
        }
        return n;
      } catch (SocketTimeoutException e) {
        readTimedOut();
        throw e;
      } catch (IOException e) {
        ioFailed = true;
        if (!endedByUs()) {
          peerEndedAfterPause();
        }
        throw e;
      } finally {
        ACTIVE_IO.getAndAdd(TimeWaitSocket.this, -1);
        ioEnded(true);
      }
    }

    @Override
    public int available() throws IOException {
      return readAheadLen + delegate.available();
    }

    @Override
    public void close() throws IOException {
      TimeWaitSocket.this.close();
    }
  }

  private final class Output extends OutputStream {
    private final OutputStream delegate;

    Output(OutputStream delegate) {
      this.delegate = delegate;
    }

    @Override
    public void write(int b) throws IOException {
      if (armed) {
        startFinWait(); // the exchange is over: this is TLS closing
        return;
      }
      ACTIVE_IO.getAndAdd(TimeWaitSocket.this, WRITE_UNIT);
      try {
        delegate.write(b);
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        ACTIVE_IO.getAndAdd(TimeWaitSocket.this, -WRITE_UNIT);
        ioEnded(false);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (armed) {
        startFinWait(); // the exchange is over: this is TLS closing
        return;
      }
      ACTIVE_IO.getAndAdd(TimeWaitSocket.this, WRITE_UNIT);
      try {
        delegate.write(b, off, len);
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        ACTIVE_IO.getAndAdd(TimeWaitSocket.this, -WRITE_UNIT);
        ioEnded(false);
      }
    }

    @Override
    public void flush() throws IOException {
      delegate.flush();
    }

    @Override
    public void close() throws IOException {
      TimeWaitSocket.this.close();
    }
  }
}
