package dev.timewait.httpclient5;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.BooleanSupplier;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.io.entity.HttpEntityWrapper;

/**
 * An exec interceptor of server close, just before HttpClient's protocol handler, that tells an
 * armed connection's close whether its exchange ended by agreement. {@link ClassicRequestExecutor}
 * arms at the response's head, the last hook before HttpClient reads the body and closes the
 * connection on its last byte; a caller may still leave the body before its end ({@code
 * CloseableHttpResponse.close(CloseMode.IMMEDIATE)}, which reads nothing more). That close must
 * not wait for the server's FIN, which comes only after the rest of the body: the FIN wait's
 * {@link Watch} ends it with an RST, an aborted exchange.
 *
 * <p>HttpClient closes a connection whose body ended from inside the read, close or {@code
 * writeTo} that reached the end ({@code ResponseEntityProxy}, whose {@code EofSensorInputStream}
 * releases the connection before the read returns -1): so a close while one of them is under way
 * is the exchange's end, and one while none is, before the end was read, is the caller leaving.
 * Here, above the protocol handler, the body is HttpClient's proxy itself, whose trailers lookup
 * (its stream's type) the wrapping leaves alone; every response of the chain passes here,
 * a redirect's or a challenge's that HttpClient reads and discards itself included.
 *
 * <p>Thread-safe: stateless.
 */
final class ClassicBodyWatchExec implements ExecChainHandler {
  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-body-watch";

  /** The context attribute holding the {@link Watch} of the exchange armed last, if any. */
  static final String WATCH_ATTRIBUTE = "dev.timewait.httpclient5.body-watch";

  @Override
  public ClassicHttpResponse execute(
      ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
      throws IOException, HttpException {
    ClassicHttpResponse response = chain.proceed(request, scope);
    Object armed = scope.clientContext.removeAttribute(WATCH_ATTRIBUTE);
    HttpEntity entity = response.getEntity();
    if (armed instanceof Watch && entity != null && entity.isStreaming()) {
      Watch watch = (Watch) armed;
      response.setEntity(new WatchedEntity(entity, watch));
      watch.betweenCalls();
    }
    return response;
  }

  /**
   * One armed exchange's FIN-wait abort: true once the caller's request is cancelled, or while the
   * body is watched, not at its end, and no read of it is under way. Unwatched (the connection
   * released before the response got here, or a failure on the way) it reads as before: only the
   * cancel. Written by the thread reading the body, read by the closing thread.
   */
  static final class Watch implements BooleanSupplier {
    private static final int UNWATCHED = 0;
    private static final int BETWEEN_CALLS = 1;
    private static final int IN_CALL = 2;
    private static final int ENDED = 3;

    private final CancellableDependency request;
    private volatile int state = UNWATCHED;

    /** @param request the caller's request, for its cancel flag, or null */
    Watch(CancellableDependency request) {
      this.request = request;
    }

    @Override
    public boolean getAsBoolean() {
      return state == BETWEEN_CALLS || request != null && request.isCancelled();
    }

    void betweenCalls() {
      state = BETWEEN_CALLS;
    }

    void enter() {
      if (state != ENDED) {
        state = IN_CALL;
      }
    }

    /** @param ended whether the call read the body's end (or closed it) */
    void exit(boolean ended) {
      if (state != ENDED) {
        state = ended ? ENDED : BETWEEN_CALLS;
      }
    }
  }

  /** The body as HttpClient gave it, each read, close and {@code writeTo} told to the watch. */
  private static final class WatchedEntity extends HttpEntityWrapper {
    private final Watch watch;

    WatchedEntity(HttpEntity entity, Watch watch) {
      super(entity);
      this.watch = watch;
    }

    @Override
    public InputStream getContent() throws IOException {
      InputStream content = super.getContent();
      return content == null ? null : new WatchedStream(content, watch);
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      watch.enter();
      boolean ended = false;
      try {
        super.writeTo(out);
        ended = true;
      } finally {
        watch.exit(ended);
      }
    }

    @Override
    public void close() throws IOException {
      watch.enter();
      try {
        super.close();
      } finally {
        watch.exit(true);
      }
    }
  }

  /** A body stream whose reads the watch sees; the stream's own defaults go through them. */
  private static final class WatchedStream extends InputStream {
    private final InputStream in;
    private final Watch watch;

    WatchedStream(InputStream in, Watch watch) {
      this.in = in;
      this.watch = watch;
    }

    @Override
    public int read() throws IOException {
      watch.enter();
      int b = 0; // a read that throws did not reach the end
      try {
        b = in.read();
        return b;
      } finally {
        watch.exit(b < 0);
      }
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
      watch.enter();
      int n = 0; // as above
      try {
        n = in.read(buffer, off, len);
        return n;
      } finally {
        watch.exit(n < 0);
      }
    }

    @Override
    public long skip(long n) throws IOException {
      watch.enter();
      try {
        return in.skip(n);
      } finally {
        watch.exit(false);
      }
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() throws IOException {
      watch.enter();
      try {
        in.close();
      } finally {
        watch.exit(true);
      }
    }
  }
}
