package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.ServerClose;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Secrets stay out of the log, written once and run by every adapter: requests carrying a secret
 * in a header, the query string and the body (and responses carrying one in a header and the
 * body) run through the configured client, successfully and through faults (refused connect,
 * reset mid-body, a FIN wait that times out), while everything written to {@code System.err}
 * (where slf4j-simple logs, at the test's configured levels: info and above for
 * {@code dev.timewait}) is captured. The secret must not appear. A canary INFO line shows the
 * capture works.
 *
 * <p>A JUnit test class: JUnit makes an instance per test method and runs it on one thread. It
 * holds JUnit's {@code System.err} lock while it replaces the stream, so that JUnit's parallel
 * execution runs no other test that replaces it at the same time.
 */
@ResourceLock(Resources.SYSTEM_ERR)
public abstract class LogSecrecyContract {
  private static final String SECRET = "s3cr3t-7f1c9a";
  private static final String CANARY = "log-secrecy-canary-line";

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
    return Stream.of(ServerClose.builder().finWait(Duration.ofMillis(200)).build(),
        CloseStrategy.reset(), PooledKeepAlive.builder().build());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void noSecretFromHeadersQueryOrBodyReachesTheLog(CloseStrategy strategy) throws Exception {
    HttpServer echo = HttpServer.create(new InetSocketAddress(LoopbackServer.IPV4_LOOPBACK, 0), 16);
    echo.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().add("X-Echo-Secret", SECRET);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    echo.start();
    int refusedPort;
    try (ServerSocket probe = new ServerSocket(0, 1, LoopbackServer.IPV4_LOOPBACK)) {
      refusedPort = probe.getLocalPort();
    }
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new TeeStream(originalErr, captured), true, StandardCharsets.UTF_8));
    try (RawHttpPeer resetting = RawHttpPeer.start(RawHttpPeer.Behaviour.RESET_MID_BODY);
        RawHttpPeer ignoring = RawHttpPeer.start(RawHttpPeer.Behaviour.IGNORE_CONNECTION_CLOSE);
        FaultClient client = newClient(strategy, new CloseAccounting(), Duration.ofSeconds(10))) {
      LoggerFactory.getLogger(LogSecrecyContract.class).info(CANARY);
      Map<String, String> headers = Map.of("Authorization", "Bearer " + SECRET, "X-Api-Key", SECRET);
      byte[] body = ("{\"password\":\"" + SECRET + "\"}").getBytes(StandardCharsets.UTF_8);
      String query = "/path-" + SECRET + "?token=" + SECRET;
      for (int i = 0; i < 3; i++) {
        FaultClient.Reply reply = client.exchange("POST",
            URI.create("http://127.0.0.1:" + echo.getAddress().getPort() + query), headers, body);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.header("X-Echo-Secret")).isEqualTo(SECRET);
      }
      for (String target : new String[] {"http://127.0.0.1:" + refusedPort + query,
          "http://127.0.0.1:" + resetting.port() + query}) {
        try {
          client.exchange("GET", URI.create(target), headers, null);
        } catch (Exception expected) {
          // the caller gets the failure; the log must not
        }
      }
      if (!(strategy instanceof PooledKeepAlive)) {
        client.exchange("GET", URI.create("http://127.0.0.1:" + ignoring.port() + query), headers, null);
      }
    } finally {
      System.setErr(originalErr);
      echo.stop(0);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).as("the capture works").contains(CANARY);
    assertThat(log).as("the log at info and above").doesNotContain(SECRET);
  }

  /** Writes to both streams. */
  private static final class TeeStream extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    TeeStream(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public synchronized void write(int b) throws java.io.IOException {
      first.write(b);
      second.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
      first.write(b, off, len);
      second.write(b, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
      first.flush();
      second.flush();
    }
  }
}
