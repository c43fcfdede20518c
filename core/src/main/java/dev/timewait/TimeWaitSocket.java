package dev.timewait;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain socket whose {@link #close()} follows its factory's mode; see {@link
 * TimeWaitSocketFactory}. Its streams are thin wrappers that note, without allocating, whether a
 * read or write is under way, whether one failed, and whether the peer's FIN was read.
 *
 * <p>Once armed for a server close, the socket discards what is written to it: the exchange is
 * complete, and the only bytes left to write are TLS's close_notify. A server that has already
 * closed answers data with an RST (Linux: TCPAbortOnData), which would rob it of its TIME_WAIT.
 *
 * <p>Thread-safe as {@link Socket} is; {@code close()} runs its logic once.
 */
final class TimeWaitSocket extends Socket {
  /** A completed exchange leaves at most a TLS close_notify and a few records unread. */
  static final int MAX_DRAIN_BYTES = 64 * 1024;

  private final TimeWaitSocketFactory factory;
  private final AtomicInteger activeIo = new AtomicInteger();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean armed;
  private volatile boolean ioFailed;
  private volatile boolean peerFinSeen;
  /** When the FIN wait ends, once a server close has begun; 0 before. */
  private volatile long finDeadline;
  private volatile TimeWaitSocketFactory.ConnectionKey key;
  private InputStream in;
  private OutputStream out;

  TimeWaitSocket(TimeWaitSocketFactory factory) {
    this.factory = factory;
  }

  TimeWaitSocketFactory factory() {
    return factory;
  }

  void arm() {
    armed = true;
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
  }

  /**
   * Once a server close has begun, bounds a read by what is left of the FIN wait. The JDK's
   * {@code SSLSocket.close()} reads beneath TLS for the peer's close_notify, waiting up to the
   * socket's read timeout; this keeps that read within the FIN wait.
   */
  private void boundByFinWait() throws IOException {
    long deadline = finDeadline;
    if (deadline != 0) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new SocketTimeoutException("FIN wait over");
      }
      super.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
    }
  }

  @Override
  public void connect(SocketAddress endpoint, int timeout) throws IOException {
    super.connect(endpoint, timeout);
    TimeWaitSocketFactory.ConnectionKey k = TimeWaitSocketFactory.ConnectionKey.of(this);
    key = k;
    factory.connected(this, k);
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
    if (factory.mode() == TimeWaitSocketFactory.Mode.OBSERVE) {
      super.shutdownOutput();
    }
  }

  /** Swallowed unless the factory only observes; see {@link #shutdownOutput()}. */
  @Override
  public void shutdownInput() throws IOException {
    if (factory.mode() == TimeWaitSocketFactory.Mode.OBSERVE) {
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
    if (factory.mode() == TimeWaitSocketFactory.Mode.OBSERVE) {
      super.setSoLinger(on, linger);
    }
  }

  @Override
  public void close() throws IOException {
    if (!closing.compareAndSet(false, true)) {
      return; // another thread is closing this socket the strategy's way; never cut that short
    }
    TimeWaitSocketFactory.ConnectionKey k = key;
    if (k == null) {
      super.close(); // never connected: nothing to count, no TIME_WAIT possible
      return;
    }
    String how = "failed";
    try {
      how = closeConnected();
    } finally {
      factory.closed(k, how);
    }
  }

  private String closeConnected() throws IOException {
    CloseAccounting accounting = factory.accounting();
    switch (factory.mode()) {
      case OBSERVE:
        boolean afterFin = peerFinSeen;
        super.close();
        if (afterFin) {
          accounting.recordClosedAfterPeerFin();
          return "after peer FIN";
        }
        accounting.recordClosedLocallyFirst();
        return "client closed first";
      case RESET:
        reset();
        return "reset";
      case SERVER_CLOSE:
      default:
        return serverClose(accounting);
    }
  }

  private String serverClose(CloseAccounting accounting) throws IOException {
    if (peerFinSeen) {
      super.close();
      accounting.recordClosedAfterPeerFin();
      return "after peer FIN";
    }
    if (!armed || ioFailed || activeIo.get() > 0 || isClosed()) {
      reset();
      return armed ? "reset: exchange aborted" : "reset: not armed";
    }
    switch (awaitPeerFin()) {
      case EOF:
        super.close();
        accounting.recordClosedAfterPeerFin();
        return "after peer FIN";
      case PEER_RESET:
        super.close();
        accounting.recordClosedByReset();
        return "peer reset";
      case TIMEOUT:
        accounting.recordFinWaitTimeout();
        reset();
        return "reset: FIN wait timed out";
      case UNEXPECTED_DATA:
      default:
        reset();
        return "reset: unread data";
    }
  }

  private void reset() throws IOException {
    try {
      if (!isClosed()) {
        super.setSoLinger(true, 0);
      }
    } catch (SocketException e) {
      // already dead: closing below sends nothing that leaves TIME_WAIT
    }
    super.close();
    factory.accounting().recordClosedByReset();
  }

  private enum FinWait {
    EOF,
    TIMEOUT,
    PEER_RESET,
    UNEXPECTED_DATA
  }

  private FinWait awaitPeerFin() {
    long deadline = startFinWait();
    byte[] buffer = new byte[512];
    int drained = 0;
    try {
      InputStream raw = super.getInputStream();
      while (true) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return FinWait.TIMEOUT;
        }
        super.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
        int n;
        try {
          n = raw.read(buffer);
        } catch (SocketTimeoutException e) {
          return FinWait.TIMEOUT;
        }
        if (n < 0) {
          return FinWait.EOF;
        }
        drained += n;
        if (drained > MAX_DRAIN_BYTES) {
          return FinWait.UNEXPECTED_DATA;
        }
      }
    } catch (IOException e) {
      return FinWait.PEER_RESET;
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
      boundByFinWait();
      activeIo.incrementAndGet();
      try {
        int b = delegate.read();
        if (b < 0) {
          peerFinSeen = true;
        }
        return b;
      } catch (SocketTimeoutException e) {
        readTimedOut();
        throw e;
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        activeIo.decrementAndGet();
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      boundByFinWait();
      activeIo.incrementAndGet();
      try {
        int n = delegate.read(b, off, len);
        if (n < 0) {
          peerFinSeen = true;
        }
        return n;
      } catch (SocketTimeoutException e) {
        readTimedOut();
        throw e;
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        activeIo.decrementAndGet();
      }
    }

    @Override
    public int available() throws IOException {
      return delegate.available();
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
      activeIo.incrementAndGet();
      try {
        delegate.write(b);
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        activeIo.decrementAndGet();
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (armed) {
        startFinWait(); // the exchange is over: this is TLS closing
        return;
      }
      activeIo.incrementAndGet();
      try {
        delegate.write(b, off, len);
      } catch (IOException e) {
        ioFailed = true;
        throw e;
      } finally {
        activeIo.decrementAndGet();
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
