package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.internal.Preconditions;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Schedulers;
import reactor.netty.NettyPipeline;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Configures a Reactor Netty 1.2 or 1.3 {@link HttpClient} (and so Spring's {@code WebClient}
 * through {@code ReactorClientHttpConnector}, on Spring Boot 3.4 and later) so that its
 * connections close the way a {@link CloseStrategy} says and leave no TIME_WAIT on the client. It
 * takes the user's {@code HttpClient} and hands back Reactor Netty's own types, through public
 * hooks only:
 *
 * <ul>
 *   <li>{@link #connectionProvider}: for pooled keep-alive a {@link ConnectionProvider} bounded by
 *       {@link PooledKeepAlive#maxPerRoute()} ({@code maxConnections}; Reactor Netty pools per
 *       remote address and has no bound over all of them, so {@code maxTotal} is not enforced
 *       across hosts), with {@code maxIdleTime} = {@code idleTimeout}, background eviction and an
 *       eviction predicate for the request cap and the idle times peers announce or are seen to
 *       keep; for server close and reset, {@link ConnectionProvider#newConnection()}. Create the
 *       {@code HttpClient} on it: {@code HttpClient.create(provider)}.
 *   <li>{@link #configure}: half closure as a channel option; HTTP/1.1; {@code SO_LINGER(0)}
 *       and two Netty handlers on every channel before it connects ({@code doOnChannelInit}): one
 *       next to the socket that decides how each close ends (an RST; or, after the server's FIN,
 *       a plain close; or a wait for the server's FIN), one after the HTTP codec that reports each
 *       exchange to core's connection rules (and, over TLS, one that counts the HTTP bytes
 *       received); and a {@code mapConnect} whose one object per request closes a connection
 *       that goes astray on its way to the caller (Reactor Netty 1.3 drops one now and then when
 *       a cancel meets the response head) and, for pooled keep-alive that retries, sends an
 *       unanswered idempotent request once more.
 * </ul>
 *
 * <p>What each strategy does:
 *
 * <ul>
 *   <li>{@link dev.timewait.ServerClose}: one connection per request; every request carries
 *       {@code Connection: close}; once the response was read to the end Reactor Netty closes the
 *       connection, and the close waits on the event loop (a scheduled task bounds it; nothing
 *       blocks) for the server's FIN, then closes: TIME_WAIT lands on the server. On timeout, a
 *       reset by the peer, more than 64 KiB of late data, or {@link #shutdown}: an RST. A close
 *       before the exchange completed (cancel, timeout, error) resets at once.
 *   <li>{@link dev.timewait.ResetClose}: one connection per request; every request carries {@code
 *       Connection: close}; closed with {@code SO_LINGER(0)} once the response was read to the
 *       end: an RST, no TIME_WAIT anywhere.
 *   <li>{@link PooledKeepAlive}: the pool above; a connection's last request (the cap, or the
 *       first after {@code maxLifetime}) ends it and carries {@code Connection: close} under
 *       either retirement: with server-close retirement the close then waits for the server's
 *       FIN; with reset retirement the connection resets after the exchange instead of
 *       waiting. Idle eviction, peers' announced ({@code Keep-Alive: timeout})
 *       and learned idle timeouts, {@code Keep-Alive: max=0}, HTTP/1.0 without keep-alive, and
 *       {@link #shutdown} close with an RST. Netty sees a peer's FIN on the event loop as it
 *       comes: the connection closes then (plainly: the peer keeps the TIME_WAIT), leaves the
 *       pool, and its idle time teaches {@link CloseAccounting#peerIdleTimeouts()}. A FIN the
 *       loop has not read yet (a busy loop) is found on a connection idle for {@code
 *       staleCheckAfterIdle} or longer: on Linux's epoll transport, Reactor Netty's default
 *       there, the connection's TCP state is read from the kernel ({@code TCP_INFO}; one system
 *       call) when the pool hands it out (it goes) and just before a request goes out on it
 *       (the request is held back, unsent, and sent once more on a new connection); counted and
 *       learned the same way. Other transports have no such read.
 * </ul>
 *
 * <p><b>TLS</b> works for every strategy with {@link HttpClient#secure}. Left alone, Netty's
 * {@code SslHandler} sends close_notify on close and then closes the channel at once (Reactor
 * Netty's {@code closeNotifyReadTimeout} is 0): the client's FIN goes first and the client keeps
 * TIME_WAIT, as with the JDK's {@code SSLSocket}. Configured, a close from Reactor Netty or the
 * pool reaches the socket handler past the {@code SslHandler}, without close_notify: a reset
 * needs none, and a close_notify sent to a server that has already closed draws an RST that
 * takes the TIME_WAIT from the server. The peer's close_notify is heeded: Reactor Netty closes
 * on it, and the close waits until the plaintext that came with it has been delivered.
 *
 * <p><b>HTTP/2</b>: {@code configure} sets HTTP/1.1. HTTP/2 has no {@code Connection: close}, so
 * server close cannot be asked for, and Reactor Netty multiplexes streams on one connection, so a
 * request cap means nothing; a client switched back to {@code HttpProtocol.H2} or {@code H2C}
 * after {@code configure} keeps the socket handler (its closes reset, or follow the peer's FIN),
 * without the exchange handler, which needs the HTTP/1.1 codec. Reactor Netty's HTTP/2 pool then
 * carries every request on one multiplexed connection whatever the strategy (measured over h2c:
 * 30 sequential requests on one connection, on {@code newConnection()} too, the cap not applied),
 * and the server's idle close and {@link #shutdown} leave no client TIME_WAIT ({@code Http2Test}).
 *
 * <pre>{@code
 * CloseAccounting accounting = new CloseAccounting();
 * CloseStrategy strategy = PooledKeepAlive.builder().maxTotal(32).maxPerRoute(32).build();
 * HttpClient client = TimeWaitReactorNetty.configure(
 *     HttpClient.create(TimeWaitReactorNetty.connectionProvider("api", strategy))
 *         .responseTimeout(Duration.ofSeconds(10)),
 *     strategy, accounting);
 * WebClient web = WebClient.builder().clientConnector(new ReactorClientHttpConnector(client)).build();
 * ...
 * TimeWaitReactorNetty.shutdown(client);
 * }</pre>
 *
 * <p>Configure after the client's other settings that add channel options or protocols, and do
 * not set {@code ALLOW_HALF_CLOSURE} or the protocol again afterwards ({@code SO_LINGER} set by the
 * client has no effect: the strategy decides how each channel closes). Thread-safe:
 * static methods; {@code HttpClient} is immutable, and the configured one is as thread-safe as any.
 */
public final class TimeWaitReactorNetty {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitReactorNetty.class);

  /** The attribute that carries a configured client's {@link Connections} onto its channels. */
  static final AttributeKey<Connections> CONNECTIONS = AttributeKey.valueOf("timewait.connections");

  /**
   * The longest {@link #shutdown} waits for a pooled provider to close its connections: 5 s.
   */
  public static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);

  /**
   * The pool's background eviction interval: 1 s, or the idle timeout if shorter. Without it
   * Reactor Netty checks idle connections only when one is acquired or released.
   */
  static final Duration MAX_EVICTION_INTERVAL = Duration.ofSeconds(1);

  /**
   * The providers {@link #connectionProvider} made, with their strategy and pool sweep; weak keys
   * (the sweep holds its provider weakly too).
   */
  private static final Map<ConnectionProvider, Pooled> PROVIDERS =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** A pooled provider's strategy and the sweep of its remote addresses' pools. */
  private record Pooled(PooledKeepAlive strategy, PoolSweep sweep) {}

  private TimeWaitReactorNetty() {}

  /**
   * The connection provider for {@code strategy}: a bounded, evicting pool named {@code name} for
   * pooled keep-alive, {@link ConnectionProvider#newConnection()} otherwise. Create the client on
   * it ({@code HttpClient.create(provider)}), then {@link #configure} it with the same strategy.
   * Reactor Netty pools per remote address; a remote's pool with no connection for two to three
   * {@code idleTimeout}s is disposed (a later call makes a new one) by a sweep of timewait's,
   * which holds the provider weakly and which {@link #shutdown} stops: a provider dropped is
   * collected. Use the provider only for clients configured by timewait: the sweep sees only
   * their connections.
   *
   * @param name the pool's name, in Reactor Netty's logs and metrics
   * @param strategy how connections close
   * @return Reactor Netty's provider for the strategy
   * @throws IllegalStateException for pooled keep-alive on Reactor Netty older than 1.2
   */
  public static ConnectionProvider connectionProvider(String name, CloseStrategy strategy) {
    return connectionProvider(name, strategy, builder -> { });
  }

  /**
   * {@link #connectionProvider(String, CloseStrategy)}, with settings of the user's own on Reactor
   * Netty's pool builder first: its metrics ({@code metrics(true)}), {@code
   * pendingAcquireTimeout}, {@code fifo()} or {@code lifo()}, {@code disposeTimeout}. The
   * strategy's settings are made after {@code customizer} and win: {@code maxConnections}, {@code
   * pendingAcquireMaxCount}, {@code maxIdleTime}, {@code evictInBackground}, {@code
   * evictionPredicate}, and {@code disposeInactivePoolsInBackground} off (its task keeps the
   * provider forever; timewait's sweep disposes inactive pools instead). A {@code maxLifeTime} set
   * there stays, and resets connections in the pool: {@link PooledKeepAlive#maxLifetime()} retires
   * them with their last request instead. Do not set {@code forRemoteHost} there: a remote's own
   * pool settings would bypass the strategy's bound and eviction predicate. Server close and reset
   * have no pool: {@code customizer} is not called.
   *
   * @param name the pool's name, in Reactor Netty's logs and metrics
   * @param strategy how connections close
   * @param customizer settings of the user's own, applied to the pool's builder first
   * @return Reactor Netty's provider for the strategy
   * @throws IllegalStateException for pooled keep-alive on Reactor Netty older than 1.2
   */
  public static ConnectionProvider connectionProvider(String name, CloseStrategy strategy,
      java.util.function.Consumer<ConnectionProvider.Builder> customizer) {
    Preconditions.checkNotNull(name, "name");
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(customizer, "customizer");
    if (!(strategy instanceof PooledKeepAlive)) {
      return ConnectionProvider.newConnection();
    }
    PooledKeepAlive pooled = (PooledKeepAlive) strategy;
    Duration sweep = pooled.idleTimeout().compareTo(MAX_EVICTION_INTERVAL) < 0
        ? pooled.idleTimeout() : MAX_EVICTION_INTERVAL;
    // No maxLifeTime: a connection past maxLifetime retires with its next request (core's
    // ConnectionRules), which under server-close retirement asks the server to close, where
    // Reactor Netty's lifetime would reset it in the pool; an idle one is still bounded by
    // idleTimeout.
    ConnectionProvider provider;
    ConnectionProvider.Builder builder = ConnectionProvider.builder(name);
    customizer.accept(builder); // outside the try: a LinkageError of the user's is not the floor's
    try {
      // Reactor Netty keeps a pool per remote address, and each pool's background eviction is a
      // task of its own every sweep, for the provider's life unless inactive pools are disposed:
      // a client that calls many hosts (webhooks) would keep a pool and a timer per host ever
      // called. PoolSweep disposes a pool with no connection for two to three idle timeouts (a
      // later call makes a new one). Reactor Netty's own disposal of inactive pools is off (a zero interval): its
      // task reschedules itself with no handle to cancel, and keeps the provider forever.
      builder.maxConnections(pooled.maxPerRoute())
          .pendingAcquireMaxCount(2 * pooled.maxPerRoute())
          .maxIdleTime(pooled.idleTimeout())
          .evictInBackground(sweep)
          .evictionPredicate(new Eviction(pooled))
          .disposeInactivePoolsInBackground(Duration.ZERO, Duration.ZERO);
      provider = builder.build();
    } catch (LinkageError older) {
      // Reactor Netty 1.1 (Spring Boot 3.0-3.3) has no evictionPredicate with this signature:
      // fail here, naming the floor, rather than with NoSuchMethodError.
      throw new IllegalStateException("timewait-reactor-netty needs Reactor Netty 1.2 or later"
          + " (io.projectreactor.netty:reactor-netty-http), but an older one is on the class path ("
          + older + "); manage reactor-bom to 2024.0 or later in your build", older);
    }
    PROVIDERS.put(provider, new Pooled(pooled, new PoolSweep(provider, pooled.idleTimeout())));
    return provider;
  }

  /**
   * Configures {@code client} for {@code strategy}, with an accounting of its own.
   *
   * @param client the client to configure, created on {@link #connectionProvider} for pooled
   *     keep-alive
   * @param strategy how connections close
   * @return the configured client
   */
  public static HttpClient configure(HttpClient client, CloseStrategy strategy) {
    return configure(client, strategy, new CloseAccounting());
  }

  /**
   * Configures {@code client} for {@code strategy}, counting every connection into {@code
   * accounting}.
   *
   * @param client the client to configure, created on {@link #connectionProvider} for pooled
   *     keep-alive
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return the configured client
   * @throws IllegalArgumentException if {@code client} was configured by timewait already, or
   *     (pooled keep-alive) its provider is not the one {@link #connectionProvider} made for the
   *     strategy
   */
  public static HttpClient configure(HttpClient client, CloseStrategy strategy,
      CloseAccounting accounting) {
    Preconditions.checkNotNull(client, "client");
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    if (client.configuration().attributes().containsKey(CONNECTIONS)) {
      throw new IllegalArgumentException(
          "client must not be configured by TimeWaitReactorNetty yet, but it was; configure a client once");
    }
    ConnectionProvider provider = client.configuration().connectionProvider();
    Pooled pooled = PROVIDERS.get(provider);
    if (strategy instanceof PooledKeepAlive && (pooled == null || !strategy.equals(pooled.strategy()))) {
      throw new IllegalArgumentException("client's connectionProvider must be made by"
          + " TimeWaitReactorNetty.connectionProvider(name, strategy) for " + strategy
          + ", but was " + provider + ": create the client with HttpClient.create(provider)");
    }
    Connections connections = new Connections(strategy, accounting, provider,
        pooled == null ? null : pooled.sweep());
    HttpClient configured = client
        .attr(CONNECTIONS, connections)
        .protocol(HttpProtocol.HTTP11)
        // The peer's FIN becomes an event for the socket handler instead of Netty's own close, so
        // that the close after it is plain (the peer keeps the TIME_WAIT) and is counted as such.
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .doOnChannelInit((observer, channel, remote) -> install(connections, channel.pipeline(), remote))
        .mapConnect(new Attempts(connections));
    log.debug("configured Reactor Netty for {}", strategy);
    return configured;
  }

  private static void install(Connections connections, ChannelPipeline pipeline,
      SocketAddress remote) {
    if (connections.sweep != null && remote != null) {
      connections.sweep.opened(remote, pipeline.channel());
    }
    ChannelState state = new ChannelState(connections);
    if (connections.stateAttribute) {
      pipeline.channel().attr(ChannelState.KEY).set(state);
    }
    // An RST by default: a close that bypasses the pipeline (Netty's own, after an I/O error)
    // never leaves TIME_WAIT. Set here, before the connect and after the bootstrap applied any
    // SO_LINGER of the user's, rather than as a channel option: the socket handler then knows it
    // is set, and a reset close needs no second setsockopt. It lifts it for the closes after a FIN.
    try {
      state.lingerZero = pipeline.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    } catch (ChannelException e) {
      log.debug("cannot set SO_LINGER(0) on {} before it connects: {}", pipeline.channel(),
          e.toString());
    }
    SocketHandler socket = new SocketHandler(state);
    pipeline.addFirst(SocketHandler.NAME, socket);
    if (pipeline.get(NettyPipeline.HttpCodec) != null) {
      pipeline.addAfter(NettyPipeline.HttpCodec, ExchangeHandler.NAME, new ExchangeHandler(state, socket));
      // The HTTP bytes received: past TLS where there is TLS (Reactor Netty adds its SslHandler
      // before this hook runs); otherwise the socket handler sees the same bytes and counts them,
      // one handler less on every read.
      if (pipeline.get(NettyPipeline.SslHandler) != null) {
        pipeline.addBefore(NettyPipeline.HttpCodec, ResponseBytes.NAME, new ResponseBytes(state));
      } else {
        socket.countResponseBytes();
      }
    } else if (!connections.withoutHttp11Codec) {
      connections.withoutHttp11Codec = true; // once per client
    }
  }

  /**
   * A new client for {@code strategy}, on its own {@link #connectionProvider}.
   *
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return the configured client
   */
  public static HttpClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    return configure(HttpClient.create(connectionProvider("timewait", strategy)), strategy, accounting);
  }

  /**
   * The close accounting of a client configured by timewait.
   *
   * @param client the client to act on
   * @return its accounting
   * @throws IllegalArgumentException if {@code client} was not configured by timewait
   */
  public static CloseAccounting accounting(HttpClient client) {
    return connections(client).accounting;
  }

  /**
   * Shuts a configured client down: every connection it has open ends now, with an RST (a FIN
   * wait under way counts as a FIN-wait abort; exchanges under way fail), and its pooled
   * provider, if any, is disposed. Waits at most {@link #SHUTDOWN_WAIT} for each of the two, and
   * returns without an exception past either bound (the rest goes on in the background); on a
   * non-blocking thread (Reactor Netty's event loops, where a reactive chain that ends its client
   * runs, and Reactor's parallel scheduler) it starts both and returns at once. Reactor Netty's
   * event loops are shared and stay. Idempotent.
   *
   * @param client the client to act on
   * @throws IllegalArgumentException if {@code client} was not configured by timewait
   */
  public static void shutdown(HttpClient client) {
    Connections connections = connections(client);
    // Reactor's block() throws IllegalStateException on its non-blocking threads, Reactor Netty's
    // event loops among them, and a loop must not wait for closes that may need it to run.
    boolean mayBlock = !Schedulers.isInNonBlockingThread();
    connections.shutdown(mayBlock ? SHUTDOWN_WAIT : Duration.ZERO);
    ConnectionProvider provider = client.configuration().connectionProvider();
    Pooled pooled = PROVIDERS.get(provider);
    if (pooled != null) {
      pooled.sweep().cancel();
      if (mayBlock) {
        try {
          provider.disposeLater().block(SHUTDOWN_WAIT);
        } catch (RuntimeException slowOrFailed) {
          // block(timeout) throws IllegalStateException past its bound; the pool's connections
          // were reset above, so what is left is the provider's own disposal, which goes on. A
          // shutdown (a Spring context closing) must not fail for it.
          log.debug("disposing {} did not end within {}: {}", provider, SHUTDOWN_WAIT,
              slowOrFailed.toString());
        }
      } else {
        provider.disposeLater().subscribe(
            null, e -> log.debug("disposing {} failed: {}", provider, e.toString()));
      }
    }
  }

  /** The sweep of a provider {@link #connectionProvider} made for pooled keep-alive, or null: for tests. */
  static PoolSweep sweep(ConnectionProvider provider) {
    Pooled pooled = PROVIDERS.get(provider);
    return pooled == null ? null : pooled.sweep();
  }

  /** FIN waits under way in this process: for tests. */
  static int finWaitsUnderWay() {
    return Connections.FIN_WAITS.get();
  }

  private static Connections connections(HttpClient client) {
    Preconditions.checkNotNull(client, "client");
    Object connections = client.configuration().attributes().get(CONNECTIONS);
    if (!(connections instanceof Connections)) {
      throw new IllegalArgumentException(
          "client must be configured by TimeWaitReactorNetty, but was not: " + client);
    }
    return (Connections) connections;
  }
}
