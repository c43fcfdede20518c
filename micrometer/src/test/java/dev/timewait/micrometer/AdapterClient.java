package dev.timewait.micrometer;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import dev.timewait.testing.ContractClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * The four clients timewait adapts, each as the kit's {@link ContractClient}, configured by its
 * adapter with a strategy and counting into a given accounting, so that one test body runs over
 * every adapter. Each call is bounded by {@link #BOUND}.
 */
enum AdapterClient {
  HC5_CLASSIC {
    @Override
    Client open(CloseStrategy strategy, CloseAccounting accounting) {
      CloseableHttpClient client =
          TimeWaitHttpClient5.configure(HttpClients.custom(), strategy, accounting).build();
      return new Client(accounting) {
        @Override
        public int get(URI uri) throws Exception {
          return client.execute(new HttpGet(uri), response -> {
            EntityUtils.consume(response.getEntity());
            return response.getCode();
          });
        }

        @Override
        public void close() {
          try {
            client.close();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };
    }
  },
  HC5_ASYNC {
    @Override
    Client open(CloseStrategy strategy, CloseAccounting accounting) {
      CloseableHttpAsyncClient client =
          TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy, accounting).build();
      client.start();
      return new Client(accounting) {
        @Override
        public int get(URI uri) throws Exception {
          return client.execute(SimpleRequestBuilder.get(uri).build(), null)
              .get(BOUND.toMillis(), TimeUnit.MILLISECONDS).getCode();
        }

        @Override
        public void close() {
          client.close(CloseMode.GRACEFUL);
        }
      };
    }
  },
  OKHTTP {
    @Override
    Client open(CloseStrategy strategy, CloseAccounting accounting) {
      return okHttp(TimeWaitOkHttp.configure(new OkHttpClient.Builder(), strategy, accounting)
          .callTimeout(BOUND).build(), accounting, true);
    }
  },
  REACTOR_NETTY {
    @Override
    Client open(CloseStrategy strategy, CloseAccounting accounting) {
      HttpClient client = TimeWaitReactorNetty.configure(
          HttpClient.create(TimeWaitReactorNetty.connectionProvider("meters", strategy))
              .responseTimeout(BOUND),
          strategy, accounting);
      return new Client(accounting) {
        @Override
        public int get(URI uri) {
          Integer status = client.get().uri(uri)
              .responseSingle((response, body) -> body.then(Mono.just(response.status().code())))
              .block(BOUND);
          return status == null ? -1 : status;
        }

        @Override
        public void close() {
          TimeWaitReactorNetty.shutdown(client);
        }
      };
    }
  };

  /** The longest a request may take. */
  static final Duration BOUND = Duration.ofSeconds(30);


  /** A client configured by this adapter for {@code strategy}, counting into {@code accounting}. */
  abstract Client open(CloseStrategy strategy, CloseAccounting accounting);

  /**
   * The control: OkHttp without timewait on an observing socket factory, a new client per request
   * shut down after it, so that the client closes every connection first and keeps its TIME_WAIT.
   */
  static Client naiveOkHttp(CloseAccounting accounting) {
    return new Client(accounting) {
      @Override
      public int get(URI uri) throws Exception {
        try (Client once = okHttp(new OkHttpClient.Builder()
            .socketFactory(TimeWaitSocketFactory.observing(accounting)).callTimeout(BOUND).build(),
            accounting, false)) {
          return once.get(uri);
        }
      }

      @Override
      public void close() {}
    };
  }

  private static Client okHttp(OkHttpClient client, CloseAccounting accounting,
      boolean configured) {
    return new Client(accounting) {
      @Override
      public int get(URI uri) throws Exception {
        try (Response response = client.newCall(new Request.Builder().url(uri.toString()).build())
            .execute()) {
          response.body().bytes();
          return response.code();
        }
      }

      @Override
      public void close() {
        if (configured) {
          TimeWaitOkHttp.shutdown(client);
        } else {
          client.dispatcher().executorService().shutdown();
          client.connectionPool().evictAll();
        }
      }
    };
  }

  /**
   * The kit's client over an adapter's client and its accounting; its close throws no checked
   * exception (no interrupt to handle in a try-with-resources).
   */
  abstract static class Client implements ContractClient {
    private final CloseAccounting accounting;

    Client(CloseAccounting accounting) {
      this.accounting = accounting;
    }

    @Override
    public CloseStats stats() {
      return accounting.snapshot();
    }

    @Override
    public abstract void close();
  }
}
