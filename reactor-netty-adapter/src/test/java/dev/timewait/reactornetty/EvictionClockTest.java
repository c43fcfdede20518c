package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import io.netty.channel.Channel;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.ConnectionProvider.ConnectionMetadata;

/**
 * The pool's eviction measures a connection's idle time on the monotonic clock. Reactor Netty's
 * pool reports idle time on the wall clock (reactor-pool's {@code Clock.systemUTC()}), which NTP
 * or a resumed VM can step: here the pool's figures are what such a step makes them, and the
 * connection is a real one, idle on a real peer for as long as the test waited.
 */
class EvictionClockTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  @Test
  void aConnectionIdlePastTheIdleTimeoutIsEvictedWhateverTheWallClockSays() throws Exception {
    // The pool's own idle timeout is long, so that its background sweep leaves the connection
    // alone; the predicate under test is made for a 1 s one.
    PooledKeepAlive strategy = PooledKeepAlive.builder().idleTimeout(Duration.ofSeconds(60)).build();
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("eviction-clock", strategy);
    AtomicReference<Channel> pooled = new AtomicReference<>();
    HttpClient client = TimeWaitReactorNetty.configure(HttpClient.create(provider)
        .doOnResponse((response, connection) -> pooled.set(connection.channel())), strategy, new CloseAccounting());
    Eviction eviction = new Eviction(PooledKeepAlive.builder().idleTimeout(Duration.ofSeconds(1)).build());
    // The JDK's server keeps an idle connection for 30 s (sun.net.httpserver.idleInterval).
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 10);
    server.createContext("/", exchange -> {
      byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, ok.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(ok);
      }
    });
    server.start();
    try {
      String body = client.get().uri("http://127.0.0.1:" + server.getAddress().getPort() + "/")
          .responseContent().aggregate().asString().block(BOUND);
      assertThat(body).isNotNull();
      // The pooled channel itself: the exchange's Connection lets go of it once released.
      assertThat(pooled.get()).isNotNull();
      Connection connection = Connection.from(pooled.get());

      // Just used: kept, though a wall clock stepped forward by an hour says idle for an hour.
      assertThat(eviction.test(connection, idleFor(TimeUnit.HOURS.toMillis(1)))).isFalse();

      // Idle past the 1 s idle timeout: evicted, though a wall clock stepped back says 0 ms
      // (before: kept, and handed out to carry a request to a peer that may have closed it).
      Thread.sleep(1_200);
      assertThat(connection.channel().isActive()).as("still pooled, open").isTrue();
      assertThat(eviction.test(connection, idleFor(0))).isTrue();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
      server.stop(0);
    }
  }

  /** The pool's view of a connection that has carried one request and is idle {@code idleMillis}. */
  private static ConnectionMetadata idleFor(long idleMillis) {
    return new ConnectionMetadata() {
      @Override
      public int acquireCount() {
        return 1;
      }

      @Override
      public long idleTime() {
        return idleMillis;
      }

      @Override
      public long lifeTime() {
        return idleMillis;
      }

      @Override
      public long releaseTimestamp() {
        return System.currentTimeMillis() - idleMillis;
      }

      @Override
      public long allocationTimestamp() {
        return System.currentTimeMillis() - idleMillis;
      }
    };
  }
}
