package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Integrity, written once and run by every adapter: a reset or a server close must never cut a
 * request or a response short. Against the JDK's HttpServer on loopback, for reset close and for
 * server close: {@value #UPLOADS} uploads of fresh random 1 MiB bodies, each carrying its SHA-256
 * in {@code X-Sha256}, which the server checks; and {@value #DOWNLOADS} downloads of 10 MiB random
 * bodies whose SHA-256 the server sends and the client checks. Zero mismatches, zero errors.
 * Requests run at concurrency {@value #CONCURRENCY}; each run is bounded by {@link #RUN_BOUND} and
 * fails when it takes longer.
 *
 * <p>A JUnit test class: JUnit makes an instance per test method and runs it on one thread.
 *
 * <p>{@code @Isolated}: its checks read JVM-wide and host-wide state (threads inside timewait's
 * socket layer, FIN waits under way, the kernel's table), which tests running beside it under
 * JUnit's parallel execution would move.
 */
@org.junit.jupiter.api.parallel.Isolated
public abstract class IntegrityContract {
  /** Uploads per run. */
  protected static final int UPLOADS = 1000;
  /** Bytes per upload: 1 MiB. */
  protected static final int UPLOAD_BYTES = 1 << 20;
  /** Downloads per run. */
  protected static final int DOWNLOADS = 200;
  /** Bytes per download: 10 MiB. */
  protected static final int DOWNLOAD_BYTES = 10 << 20;
  /** Exchanges in flight at once. */
  protected static final int CONCURRENCY = 4;
  /** Distinct download bodies the server holds (each request takes one of them). */
  private static final int DOWNLOAD_BODIES = 4;
  /** The longest a run may take. */
  protected static final Duration RUN_BOUND = Duration.ofMinutes(2);
  private static final Logger log = LoggerFactory.getLogger(IntegrityContract.class);

  private static byte[][] downloadBodies;
  private static String[] downloadHashes;

  private HttpServer server;
  private ExecutorService serverThreads;
  private final AtomicInteger serverMismatches = new AtomicInteger();
  private final AtomicInteger serverChecked = new AtomicInteger();

  /**
   * A client configured by the adapter with {@code strategy}, counting into {@code accounting},
   * with {@code timeout} as its connect and response timeouts.
   *
   * @param strategy the strategy under test
   * @param accounting where the client counts how its connections end
   * @param timeout the connect and response timeout
   * @return a new client
   * @throws Exception if the client cannot be made
   */
  protected abstract FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting,
      Duration timeout) throws Exception;

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.reset(), CloseStrategy.serverClose());
  }

  static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static synchronized void makeDownloadBodies() {
    if (downloadBodies == null) {
      Random random = new Random();
      downloadBodies = new byte[DOWNLOAD_BODIES][DOWNLOAD_BYTES];
      downloadHashes = new String[DOWNLOAD_BODIES];
      for (int i = 0; i < DOWNLOAD_BODIES; i++) {
        random.nextBytes(downloadBodies[i]);
        downloadHashes[i] = sha256(downloadBodies[i]);
      }
    }
  }

  @BeforeEach
  void startServer() throws IOException {
    makeDownloadBodies();
    server = KernelTcp.startOnFreshPorts(
        () -> HttpServer.create(new InetSocketAddress(LoopbackServer.IPV4_LOOPBACK, 0), 128),
        s -> s.stop(0), s -> s.getAddress().getPort());
    serverThreads = Executors.newFixedThreadPool(CONCURRENCY * 2, daemon("integrity-contract-server"));
    server.setExecutor(serverThreads);
    server.createContext("/upload", this::checkUpload);
    server.createContext("/download", IntegrityContract::sendDownload);
    server.start();
  }

  @AfterEach
  void stopServer() throws InterruptedException {
    server.stop(0);
    serverThreads.shutdownNow();
    serverThreads.awaitTermination(5, TimeUnit.SECONDS);
  }

  private void checkUpload(HttpExchange exchange) throws IOException {
    MessageDigest md = digest();
    long length = 0;
    try (InputStream in = exchange.getRequestBody()) {
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        md.update(buffer, 0, n);
        length += n;
      }
    }
    String expected = exchange.getRequestHeaders().getFirst("X-Sha256");
    boolean whole = length == UPLOAD_BYTES && HexFormat.of().formatHex(md.digest()).equals(expected);
    serverChecked.incrementAndGet();
    if (!whole) {
      serverMismatches.incrementAndGet();
    }
    byte[] answer = (whole ? "ok" : "mismatch").getBytes(StandardCharsets.US_ASCII);
    exchange.sendResponseHeaders(whole ? 200 : 422, answer.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(answer);
    }
  }

  private static void sendDownload(HttpExchange exchange) throws IOException {
    exchange.getRequestBody().readAllBytes();
    String query = exchange.getRequestURI().getQuery();
    int index = Integer.parseInt(query.substring(query.indexOf('=') + 1)) % DOWNLOAD_BODIES;
    exchange.getResponseHeaders().add("X-Sha256", downloadHashes[index]);
    exchange.sendResponseHeaders(200, DOWNLOAD_BYTES);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(downloadBodies[index]);
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  /** Runs {@code count} tasks at {@link #CONCURRENCY}; returns the failures' descriptions. */
  private static List<String> run(int count, TaskBody task) throws Exception {
    ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY, daemon("integrity-contract-worker"));
    AtomicInteger next = new AtomicInteger();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    long deadline = System.nanoTime() + RUN_BOUND.toNanos();
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < CONCURRENCY; w++) {
      futures.add(workers.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < count && deadline - System.nanoTime() > 0) {
          try {
            String problem = task.run(i);
            if (problem != null) {
              failures.add(problem);
            }
          } catch (Exception e) {
            failures.add("request " + i + " failed: " + e);
          }
        }
        return null;
      }));
    }
    workers.shutdown();
    boolean ended = workers.awaitTermination(RUN_BOUND.toMillis() + 30_000, TimeUnit.MILLISECONDS);
    assertThat(ended).as("the run ended within %s", RUN_BOUND).isTrue();
    for (Future<?> f : futures) {
      f.get();
    }
    assertThat(next.get()).as("every request ran within %s (the run is too slow)", RUN_BOUND)
        .isGreaterThanOrEqualTo(count);
    return failures;
  }

  @FunctionalInterface
  private interface TaskBody {
    /** Runs request {@code i}; returns a description of what was wrong, or null. */
    String run(int i) throws Exception;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void everyUploadArrivesWholeWithItsSha256(CloseStrategy strategy) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    long start = System.nanoTime();
    try (FaultClient client = newClient(strategy, accounting, Duration.ofSeconds(30))) {
      List<String> failures = run(UPLOADS, i -> {
        byte[] body = new byte[UPLOAD_BYTES];
        ThreadLocalRandom.current().nextBytes(body);
        FaultClient.Reply reply = client.exchange("POST", uri("/upload"),
            Map.of("X-Sha256", sha256(body)), body);
        return reply.status() == 200 ? null : "upload " + i + ": status " + reply.status();
      });
      assertThat(failures).as("failed uploads").isEmpty();
    }
    log.debug("{} uploads of {} bytes with {}: {} ms, {}", UPLOADS, UPLOAD_BYTES, strategy.name(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), accounting.snapshot());
    assertThat(serverChecked.get()).isEqualTo(UPLOADS);
    assertThat(serverMismatches.get()).as("uploads the server saw cut or changed").isZero();
    assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(UPLOADS);
    assertThat(accounting.snapshot().open()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void everyDownloadArrivesWholeWithItsSha256(CloseStrategy strategy) throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    long start = System.nanoTime();
    try (FaultClient client = newClient(strategy, accounting, Duration.ofSeconds(30))) {
      List<String> failures = run(DOWNLOADS, i -> {
        FaultClient.Reply reply = client.exchange("GET", uri("/download?i=" + i), Map.of(), null);
        if (reply.status() != 200) {
          return "download " + i + ": status " + reply.status();
        }
        if (reply.body().length != DOWNLOAD_BYTES) {
          return "download " + i + ": " + reply.body().length + " of " + DOWNLOAD_BYTES + " bytes";
        }
        return sha256(reply.body()).equals(reply.header("X-Sha256"))
            ? null : "download " + i + ": SHA-256 mismatch";
      });
      assertThat(failures).as("downloads cut or changed").isEmpty();
    }
    log.debug("{} downloads of {} bytes with {}: {} ms, {}", DOWNLOADS, DOWNLOAD_BYTES, strategy.name(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), accounting.snapshot());
    assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(DOWNLOADS);
    assertThat(accounting.snapshot().open()).isZero();
  }

  /** Daemon threads: one stuck in a read that shutdownNow() cannot interrupt keeps no JVM up. */
  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
