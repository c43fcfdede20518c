package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HttpClient 5.6 routes a request to a Unix domain socket when its {@code RequestConfig} names
 * one. Such a connection has no TCP state and no TIME_WAIT: every strategy lets it through, and
 * concurrent connections to the same socket file (whose local and remote addresses are all alike)
 * are told apart. The peer answers HTTP/1.1 with keep-alive, a connection per thread.
 */
class UnixDomainSocketTest {
  private static final int CONCURRENCY = 4;
  private static final int REQUESTS = 40;

  private Path dir;
  private Path socketFile;
  private ServerSocketChannel server;
  private ExecutorService peer;
  private final AtomicInteger answered = new AtomicInteger();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger askedToClose = new AtomicInteger();

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(), CloseStrategy.pooled());
  }

  @BeforeEach
  void startPeer() throws IOException {
    dir = Files.createTempDirectory("timewait-uds");
    socketFile = dir.resolve("http.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socketFile));
    peer = Executors.newCachedThreadPool();
    peer.execute(() -> {
      try {
        while (true) {
          SocketChannel channel = server.accept();
          accepted.incrementAndGet();
          peer.execute(() -> serve(channel));
        }
      } catch (IOException | java.util.concurrent.RejectedExecutionException closed) {
        // the test is over
      }
    });
  }

  @AfterEach
  void stopPeer() throws IOException {
    server.close();
    peer.shutdownNow();
    Files.deleteIfExists(socketFile);
    Files.deleteIfExists(dir);
  }

  /** Answers each request head with a small body; keeps the connection unless asked to close. */
  private void serve(SocketChannel channel) {
    try (channel) {
      ByteBuffer in = ByteBuffer.allocate(8192);
      StringBuilder head = new StringBuilder();
      while (channel.read(in) > 0) {
        in.flip();
        head.append(StandardCharsets.ISO_8859_1.decode(in));
        in.clear();
        int end;
        while ((end = head.indexOf("\r\n\r\n")) >= 0) {
          String request = head.substring(0, end).toLowerCase(java.util.Locale.ROOT);
          head.delete(0, end + 4);
          boolean close = request.contains("\r\nconnection: close");
          if (close) {
            askedToClose.incrementAndGet();
          }
          answered.incrementAndGet();
          String response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
              + (close ? "Connection: close\r\n" : "") + "\r\nok";
          channel.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.ISO_8859_1)));
          if (close) {
            return;
          }
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private RequestConfig viaSocket() {
    return RequestConfig.custom().setUnixDomainSocket(socketFile).build();
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void theClassicClientAnswersConcurrentRequestsOverAUnixDomainSocket(CloseStrategy strategy) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    try (CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(), strategy,
            accounting, Flavor.options())
        .setDefaultRequestConfig(viaSocket())
        .disableAutomaticRetries()
        .build()) {
      List<String> failures = concurrently(() -> client.execute(new HttpGet("http://localhost/doc"),
          response -> response.getCode() + " " + new String(response.getEntity().getContent().readAllBytes(),
              StandardCharsets.ISO_8859_1)));
      assertThat(failures).as("every request answered 200 ok").isEmpty();
      assertThat(answered.get()).as("each request sent once").isEqualTo(REQUESTS);
    }
    assertLeftAlone(accounting);
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void theAsyncClientAnswersConcurrentRequestsOverAUnixDomainSocket(CloseStrategy strategy) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy,
            accounting, Flavor.options())
        .setDefaultRequestConfig(viaSocket())
        .disableAutomaticRetries()
        .build();
    client.start();
    try {
      List<String> failures = concurrently(() -> {
        Future<SimpleHttpResponse> future = client.execute(
            SimpleRequestBuilder.get("http://localhost/doc").build(), null);
        SimpleHttpResponse response = future.get(10, TimeUnit.SECONDS);
        return response.getCode() + " " + response.getBodyText();
      });
      assertThat(failures).as("every request answered 200 ok").isEmpty();
      assertThat(answered.get()).as("each request sent once").isEqualTo(REQUESTS);
    } finally {
      client.close(CloseMode.IMMEDIATE);
    }
    assertLeftAlone(accounting);
  }

  /**
   * Nothing of the strategy's: no request asked the server to close, HttpClient's own reuse kept
   * connections, and no TCP connection was counted (a UDS close is neither a reset nor a FIN).
   */
  private void assertLeftAlone(CloseAccounting accounting) {
    assertThat(askedToClose.get()).as("requests with Connection: close").isZero();
    assertThat(accepted.get()).as("connections for %d requests", REQUESTS).isLessThan(REQUESTS);
    assertThat(accounting.snapshot().connectionsOpened()).as("%s", accounting.snapshot()).isZero();
    assertThat(accounting.snapshot().closed()).as("%s", accounting.snapshot()).isZero();
  }

  /** {@value #REQUESTS} requests from {@value #CONCURRENCY} threads; what did not answer "200 ok". */
  private List<String> concurrently(java.util.concurrent.Callable<String> call) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(CONCURRENCY);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        results.add(callers.submit(() -> {
          start.await(5, TimeUnit.SECONDS);
          return call.call();
        }));
      }
      start.countDown();
      List<String> failures = new ArrayList<>();
      for (Future<String> result : results) {
        try {
          String answer = result.get(20, TimeUnit.SECONDS);
          if (!"200 ok".equals(answer)) {
            failures.add(answer);
          }
        } catch (java.util.concurrent.ExecutionException e) {
          // with where it failed: a failure inside the adapter names its frame
          failures.add(e.getCause() + " at " + java.util.Arrays.toString(
              java.util.Arrays.copyOf(e.getCause().getStackTrace(), 4)));
        }
      }
      return failures;
    } finally {
      callers.shutdownNow();
    }
  }
}
