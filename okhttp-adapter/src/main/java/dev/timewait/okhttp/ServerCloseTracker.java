package dev.timewait.okhttp;

import dev.timewait.spi.SocketControl;
import dev.timewait.TimeWaitSocketFactory;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import okio.Timeout;

/**
 * Arms a server close at the one right moment: when OkHttp has read a {@code Connection: close}
 * exchange's response to the end, just before it closes the socket.
 *
 * <p>OkHttp reports {@link #responseBodyEnd} inside the read that completes the body, before it
 * releases (and, after {@code Connection: close}, closes) the connection on the same thread. So
 * the connection is armed only for a complete exchange. Everything else closes unarmed, which
 * resets at once without waiting for a FIN: a cancel or call timeout (OkHttp closes the raw socket
 * from another thread, whether or not a read is under way), an I/O error, and a response closed
 * before it was read to the end (OkHttp's discard of the rest may have failed; OkHttp's end event
 * then reports fewer bytes than the body's length, and a body of unknown length is tracked by a
 * wrapper that notes a close with content left; a chunked body whose content was all read but not
 * its last chunk is read to its end first, for at most {@link #END_WAIT_MILLIS}). A cancel or
 * call timeout that comes once the connection is armed, while
 * the call's thread waits for the server's FIN, no longer reaches the socket through OkHttp (its
 * exchange is over); the tracker hears it ({@link #canceled}) and ends the wait with an RST, a
 * FIN-wait abort. One tracker per call, held as the call's tag and registered with {@link
 * Call#addEventListener}; one {@link Exchange} per network exchange of the call.
 *
 * <p>Thread-safe: events come from the calling thread, cancels from any thread.
 */
final class ServerCloseTracker extends EventListener implements BooleanSupplier {
  /** How long a chunked body closed by its caller is read on for its end. */
  static final long END_WAIT_MILLIS = 100;

  private final TimeWaitSocketFactory factory;
  private final AtomicBoolean attached = new AtomicBoolean();
  private volatile Exchange current;
  private volatile Call call;

  ServerCloseTracker(TimeWaitSocketFactory factory) {
    this.factory = factory;
  }

  /** Registers this tracker with {@code call}, once. */
  void attachTo(Call call) {
    if (attached.compareAndSet(false, true)) {
      this.call = call;
      call.addEventListener(this);
    }
  }

  /**
   * Whether the call was cancelled: the armed connection's FIN wait polls it. OkHttp sets the
   * flag before its cancel closes the socket, and a cancel that comes between the arm and the
   * call letting go of its exchange closes the socket from the cancelling thread (a call
   * timeout's: Okio's one watchdog thread), which would wait for the server's FIN there.
   */
  @Override
  public boolean getAsBoolean() {
    Call c = call;
    return c != null && c.isCanceled();
  }

  /** A network exchange on {@code socket} starts. */
  Exchange begin(Socket socket) {
    Exchange exchange = new Exchange(socket);
    current = exchange;
    return exchange;
  }

  /** The exchange failed before it had a response: it will never be armed. */
  void end(Exchange exchange) {
    exchange.done = true;
  }

  /**
   * Returns {@code response} as it is where the exchange can be told complete from the bytes
   * OkHttp reports at its end (a body of known length, the usual case), else with a body that
   * notes a close before the end, if the exchange carried {@code Connection: close} (only such
   * exchanges are ever armed).
   */
  Response track(Exchange exchange, Response response) {
    if (!closes(response)) {
      return response;
    }
    ResponseBody body = response.body();
    long length = body.contentLength();
    if (length >= 0) {
      // OkHttp's network body reports the exact length it will read (0 where none comes: HEAD,
      // 204, 304), and its end event the bytes read through it: a body closed before its end
      // reports fewer (the rest OkHttp discards is not counted). No wrapper, so no second
      // Response, body and source per connection (issue 19).
      exchange.expectedBytes = length;
      return response;
    }
    BufferedSource source = body.source();
    ForwardingSource noting = new ForwardingSource(source) {
      @Override
      public void close() throws IOException {
        // A chunked body is complete for OkHttp only once its last chunk (0 CRLF CRLF) was read,
        // and a caller that parses the body (Jackson stops at the JSON value's last byte; Spring's
        // response closes without draining) closes before that with all content read. Read on
        // for a moment: the end of the stream now is a complete exchange (OkHttp reports its end
        // inside that read, and it is armed); content still to come is a close before the end.
        if (!endsNow(source)) {
          exchange.closedEarly = true; // harmless once the body completed: it was armed already
        }
        super.close();
      }
    };
    ResponseBody tracked =
        ResponseBody.create(Okio.buffer(noting), body.contentType(), body.contentLength());
    return response.newBuilder().body(tracked).build();
  }

  /**
   * Whether {@code source} is at its end or reaches it within {@link #END_WAIT_MILLIS} with no
   * content left: false if content is left, or it does not end in time, or the read fails. The
   * bound is OkHttp's own for the discard of a body closed early (100 ms).
   */
  static boolean endsNow(BufferedSource source) {
    Timeout timeout = source.timeout();
    long now = System.nanoTime();
    boolean hadDeadline = timeout.hasDeadline();
    long deadline = hadDeadline ? timeout.deadlineNanoTime() : 0;
    long bound = now + TimeUnit.MILLISECONDS.toNanos(END_WAIT_MILLIS);
    timeout.deadlineNanoTime(hadDeadline && deadline - bound < 0 ? deadline : bound);
    try {
      return source.exhausted();
    } catch (IOException notInTime) {
      return false;
    } finally {
      if (hadDeadline) {
        timeout.deadlineNanoTime(deadline);
      } else {
        timeout.clearDeadline();
      }
    }
  }

  private static boolean closes(Response response) {
    return isClose(response.header("Connection")) || isClose(response.request().header("Connection"));
  }

  @Override
  public void responseHeadersEnd(Call call, Response response) {
    Exchange exchange = current;
    if (exchange != null) {
      exchange.closeExpected = closes(response);
    }
  }

  @Override
  public void responseBodyEnd(Call call, long byteCount) {
    Exchange exchange = current;
    if (exchange == null || exchange.done) {
      return;
    }
    exchange.done = true;
    long expected = exchange.expectedBytes;
    if (exchange.closeExpected && !exchange.closedEarly
        && (expected == Exchange.LENGTH_UNKNOWN || byteCount == expected)) {
      // Armed with the call's cancelled flag (getAsBoolean): a cancel as the body completed,
      // whose canceled() may have run before the arm, ends the FIN wait as it begins.
      exchange.armed = SocketControl.arm(factory, exchange.socket, this);
    }
  }

  /**
   * OkHttp's cancel and call timeout close the socket themselves only while an exchange is under
   * way: once the body was read, OkHttp has detached the exchange, and the call's thread closes
   * the socket and waits for the server's FIN. End that wait now.
   */
  @Override
  public void canceled(Call call) {
    Exchange exchange = current;
    if (exchange != null && exchange.armed) {
      SocketControl.abortFinWait(factory, exchange.socket);
    }
  }

  @Override
  public void responseFailed(Call call, IOException ioe) {
    Exchange exchange = current;
    if (exchange != null) {
      exchange.done = true;
    }
  }

  /**
   * Whether a {@code Connection} header says close, as OkHttp reads it (CallServerInterceptor):
   * the whole value, any case.
   */
  static boolean isClose(String connection) {
    return "close".equalsIgnoreCase(connection);
  }

  /** One network exchange. */
  static final class Exchange {
    /** {@link #expectedBytes} where the body is tracked by a wrapper, or not known yet. */
    static final long LENGTH_UNKNOWN = -1;

    final Socket socket;
    /** The body's length as OkHttp reads it, or {@link #LENGTH_UNKNOWN}. */
    volatile long expectedBytes = LENGTH_UNKNOWN;
    volatile boolean closeExpected;
    volatile boolean closedEarly;
    volatile boolean done;
    /** Armed for a server close: its connection retires, so no other call can be using it. */
    volatile boolean armed;

    Exchange(Socket socket) {
      this.socket = socket;
    }
  }
}
