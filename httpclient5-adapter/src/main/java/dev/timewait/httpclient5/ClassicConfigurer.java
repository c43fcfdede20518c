package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.spi.ConnectionRules;
import dev.timewait.spi.SocketControl;
import java.io.IOException;
import java.net.Proxy;
import java.net.Socket;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.client5.http.io.DetachedSocketFactory;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires a strategy into a classic {@link HttpClientBuilder}: HttpClient's sockets come from core's
 * {@link TimeWaitSocketFactory} (TLS layered over them), so every close, IMMEDIATE or GRACEFUL,
 * lands on a socket that closes the strategy's way.
 *
 * <p>Uses three classes that HttpClient 5.6 marks {@code @Internal} (public, but without a
 * compatibility promise), because 5.6 has no other way to choose the plain socket: {@link
 * DetachedSocketFactory}, {@link DefaultHttpClientConnectionOperator}, and the {@link
 * PoolingHttpClientConnectionManager} constructor that takes an operator. (The builder's {@code
 * createConnectionOperator} hook is protected and would need a subclass of the builder.)
 *
 * <p>Thread-safe: stateless.
 */
final class ClassicConfigurer {
  private static final Logger log = LoggerFactory.getLogger(ClassicConfigurer.class);

  private ClassicConfigurer() {}

  /** Whether {@code endpoint} still holds its pool entry and an open connection. */
  private static boolean stillHeld(ConnectionEndpoint endpoint) {
    try {
      return endpoint.isConnected();
    } catch (IllegalStateException released) {
      return false; // ConnectionShutdownException: the endpoint was released (detached)
    }
  }

  static HttpClientBuilder configure(
      HttpClientBuilder builder,
      CloseStrategy strategy,
      CloseAccounting accounting,
      HttpClient5Options options) {
    // The classic client speaks HTTP/1.1 only, but one options object must get the same answer
    // from both clients: a setting the async client refuses for this strategy is refused here too.
    AsyncConfigurer.checkHttp2(strategy, options);
    TimeWaitSocketFactory sockets = TimeWaitSocketFactory.create(strategy, accounting);
    TlsSocketStrategy tls = options.tlsStrategy();

    // The socket that the connect under way on this thread made: see the manager's connect().
    ThreadLocal<Socket> connecting = new ThreadLocal<>();
    DetachedSocketFactory plain = new DetachedSocketFactory() {
      @Override
      public Socket create(Proxy proxy) throws IOException {
        if (proxy != null && proxy.type() != Proxy.Type.DIRECT) {
          // Our sockets cannot speak SOCKS; refusing is better than bypassing the strategy.
          throw new IOException("timewait: SOCKS proxies are not supported (" + proxy + ")");
        }
        Socket socket = sockets.createSocket();
        connecting.set(socket);
        return socket;
      }
    };
    DefaultHttpClientConnectionOperator operator = new DefaultHttpClientConnectionOperator(
        plain, null, options.dnsResolver().orElse(null),
        RegistryBuilder.<TlsSocketStrategy>create().register(URIScheme.HTTPS.id, tls).build());
    PoolingHttpClientConnectionManager manager = new PoolingHttpClientConnectionManager(
        operator, PoolConcurrencyPolicy.STRICT, PoolReusePolicy.LIFO,
        TimeValue.NEG_ONE_MILLISECOND, null) {
      /**
       * A cancel that lands while the endpoint connects releases the endpoint's pool entry before
       * the connection is assigned to it; HttpClient then connects a connection that nobody holds
       * and nobody closes (seen: 7-8 of ~50 connections left ESTABLISHED by 600 calls cancelled
       * 0-2 ms after they started). Close it here, the strategy's way.
       */
      @Override
      public void connect(ConnectionEndpoint endpoint, TimeValue connectTimeout,
          HttpContext context) throws IOException {
        // Closed: the client's close shut the pool down under a call that held its endpoint (its
        // connection closed with it), and the call's exec runtime connects the endpoint again.
        // Once closed, HttpClient's release neither pools nor closes a connection (5.6, release:
        // "if (this.isClosed()) return"): the factory, which holds its open connections, kept
        // such a one open for good (ClassicCloseRaceTest).
        if (isClosed()) {
          throw new ConnectionClosedException("Connection pool shut down");
        }
        connecting.remove();
        try {
          super.connect(endpoint, connectTimeout, context);
          Socket socket = connecting.get();
          if (socket != null && !stillHeld(endpoint)) {
            log.debug("closing a connection whose endpoint was released while it connected");
            socket.close();
          } else if (socket != null && isClosed()) {
            socket.close(); // the client closed while this connected
            throw new ConnectionClosedException("Connection pool shut down");
          }
        } finally {
          connecting.remove();
        }
      }

      // client.close() closes the pool, but a connection in its FIN wait is no longer in it:
      // HttpClient detached it before closing it on the caller's thread. End those waits here.
      // The client's close closes its manager: what the pool closes from here on is the shutdown.
      @Override
      public void close() {
        SocketControl.clientShuttingDown(sockets);
        sockets.abortFinWaits();
        super.close();
      }

      @Override
      public void close(CloseMode closeMode) {
        SocketControl.clientShuttingDown(sockets);
        sockets.abortFinWaits();
        super.close(closeMode);
      }
    };

    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      manager.setMaxTotal(pooled.maxTotal());
      manager.setDefaultMaxPerRoute(pooled.maxPerRoute());
      manager.setDefaultConnectionConfig(Pooling.connectionConfig(pooled, options.connectionConfig(), false));
      builder.evictIdleConnections(TimeValue.of(pooled.idleTimeout()));
      builder.evictExpiredConnections();
      builder.setKeepAliveStrategy(new PeerKeepAlive(sockets.accounting()));
    } else {
      manager.setMaxTotal(options.maxConnections());
      manager.setDefaultMaxPerRoute(options.maxConnections());
      manager.setDefaultConnectionConfig(options.connectionConfig());
    }

    builder.setConnectionManager(manager);
    builder.setRequestExecutor(new ClassicRequestExecutor(strategy, sockets));
    if (strategy.retirement() == Retirement.SERVER_CLOSE) {
      // Only a server close is armed, and only arming reads the caller's request: other
      // strategies need neither the interceptor nor the context attribute it sets per request
      // (the context's first attribute costs HttpCore a HashMap per request).
      builder.addExecInterceptorFirst(ClassicCancelExec.NAME, new ClassicCancelExec());
    }
    if (strategy instanceof PooledKeepAlive && ((PooledKeepAlive) strategy).retryUnanswered()) {
      // Before HttpClient's protocol handler, where its own retry sits: a second attempt runs the
      // protocol handler again and leases a new connection (ChainElement.PROTOCOL is always in the
      // chain; RETRY is not when automatic retries are disabled).
      builder.addExecInterceptorBefore(ChainElement.PROTOCOL.name(), ClassicUnansweredRetryExec.NAME,
          new ClassicUnansweredRetryExec(sockets.accounting()));
    }
    if (strategy.retirement() == Retirement.SERVER_CLOSE) {
      // Just before the protocol handler too, inside the retry: it wraps each response's body
      // above HttpClient's own proxy of it (added by the protocol handler), not beneath it.
      builder.addExecInterceptorBefore(ChainElement.PROTOCOL.name(), ClassicBodyWatchExec.NAME,
          new ClassicBodyWatchExec());
    }
    builder.setConnectionReuseStrategy(new ClassicReuseStrategy(ConnectionRules.of(strategy)));
    log.debug("configured classic client for {}", strategy);
    return builder;
  }
}
