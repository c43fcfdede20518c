package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.util.TimeValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires a strategy into an {@link HttpAsyncClientBuilder} through public, current hooks only: a
 * connection manager from {@link PoolingAsyncClientConnectionManagerBuilder} (pool bounds,
 * {@link ConnectionConfig} lifetime and idle timeout, TLS strategy, {@link TlsConfig} version
 * policy), the I/O session decorator and listener ({@link AsyncConnections}), the connection reuse
 * strategy and a last request interceptor ({@link AsyncExchangeRules}), exec interceptors before
 * the connect and main transport stages ({@link AsyncCancelExec}) and after the protocol stage
 * ({@link AsyncFinWaitExec}, server close only), and idle/expired eviction.
 *
 * <p>Thread-safe: stateless.
 */
final class AsyncConfigurer {
  private static final Logger log = LoggerFactory.getLogger(AsyncConfigurer.class);

  private AsyncConfigurer() {}

  /**
   * {@return whether HTTP/2 is allowed} Throws IAE if it is, for a strategy that needs
   * {@code Connection: close} (HTTP/2 has none): both clients ask this of their options.
   */
  static boolean checkHttp2(CloseStrategy strategy, HttpClient5Options options) {
    boolean http2 = options.allowHttp2();
    if (http2 && !(strategy instanceof PooledKeepAlive && strategy.retirement() == Retirement.RESET)) {
      throw new IllegalArgumentException("allowHttp2 needs a pooled strategy with RESET retirement:"
          + " HTTP/2 has no Connection: close, so " + strategy.name()
          + " with " + strategy.retirement() + " retirement cannot run over it");
    }
    return http2;
  }

  static HttpAsyncClientBuilder configure(
      HttpAsyncClientBuilder builder,
      CloseStrategy strategy,
      CloseAccounting accounting,
      HttpClient5Options options) {
    return configure(builder, strategy, accounting, options,
        new AsyncConnections(strategy, accounting, options.allowHttp2()));
  }

  /**
   * {@link #configure(HttpAsyncClientBuilder, CloseStrategy, CloseAccounting, HttpClient5Options)},
   * with the registry of connections given: tests read it.
   */
  static HttpAsyncClientBuilder configure(
      HttpAsyncClientBuilder builder,
      CloseStrategy strategy,
      CloseAccounting accounting,
      HttpClient5Options options,
      AsyncConnections connections) {
    boolean http2 = checkHttp2(strategy, options);
    AsyncExchangeRules rules = new AsyncExchangeRules(connections, http2, strategy.name());

    PoolingAsyncClientConnectionManagerBuilder manager = PoolingAsyncClientConnectionManagerBuilder.create()
        .setTlsStrategy(options.tlsStrategy())
        .setDefaultTlsConfig(TlsConfig.custom()
            .setVersionPolicy(http2 ? HttpVersionPolicy.NEGOTIATE : HttpVersionPolicy.FORCE_HTTP_1)
            .build());
    options.dnsResolver().ifPresent(manager::setDnsResolver);
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      manager.setMaxConnTotal(pooled.maxTotal())
          .setMaxConnPerRoute(pooled.maxPerRoute())
          .setDefaultConnectionConfig(Pooling.connectionConfig(pooled, options.connectionConfig(), http2));
      builder.evictIdleConnections(TimeValue.of(pooled.idleTimeout()));
      builder.evictExpiredConnections();
      builder.setKeepAliveStrategy(new PeerKeepAlive(accounting));
    } else {
      manager.setMaxConnTotal(options.maxConnections())
          .setMaxConnPerRoute(options.maxConnections())
          .setDefaultConnectionConfig(options.connectionConfig());
    }

    builder.setConnectionManager(manager.build());
    builder.setIoSessionDecorator(connections);
    builder.setIOSessionListener(connections);
    builder.setConnectionReuseStrategy(rules);
    builder.addRequestInterceptorLast(rules);
    if (strategy instanceof PooledKeepAlive) {
      // Before HttpClient's protocol stage, where its own retry sits: a second attempt runs the
      // protocol stage again and leases a new connection (PROTOCOL is always in the chain). With
      // retryUnanswered off it still tells connections when their exchanges end.
      builder.addExecInterceptorBefore(ChainElement.PROTOCOL.name(), AsyncUnansweredRetryExec.NAME,
          new AsyncUnansweredRetryExec(accounting, ((PooledKeepAlive) strategy).retryUnanswered()));
    }
    // Every strategy: HttpClient 5.6 loses most cancels of calls on a reused pooled connection and
    // some on new ones (measured: 34-38 of 50; 38-44 of 200): AsyncCancelExec says how.
    builder.addExecInterceptorBefore(
        ChainElement.CONNECT.name(), AsyncCancelExec.NAME, new AsyncCancelExec(connections::sweep));
    builder.addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(),
        AsyncCancelExec.Exchange.NAME, new AsyncCancelExec.Exchange());
    if (strategy.retirement() == Retirement.SERVER_CLOSE) {
      builder.addExecInterceptorAfter(
          ChainElement.PROTOCOL.name(), AsyncFinWaitExec.NAME, new AsyncFinWaitExec(connections));
    }
    log.debug("configured async client for {} (HTTP/{})", strategy, http2 ? "1.1 or 2" : "1.1");
    return builder;
  }
}
