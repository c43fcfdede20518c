package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.ServerClose;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Server close against a raw peer that answers but never closes (RawHttpPeer NEVER_CLOSE): a
 * cancel, a call timeout or an early close must reset at once, and never wait for the FIN that
 * will not come; a complete exchange waits at most the FIN wait. Time bounds are generous: the
 * point is "not the 10 s FIN wait", not speed.
 */
class CancelAndTimeoutTest {
  private static final Duration LONG_FIN_WAIT = Duration.ofSeconds(10);
  private static final long NO_WAIT_BOUND_MS = LONG_FIN_WAIT.toMillis() / 2;
  private static final Duration SETTLE = Duration.ofSeconds(5);

  private RawHttpPeer peer;
  private OkHttpClient client;
  private CloseAccounting accounting;
  private final ClientPorts ports = new ClientPorts();

  /**
   * One complete exchange, plain and TLS, before any timed test: the first call in a JVM loads
   * OkHttp's and the TLS stack's classes, which on a loaded CI machine can take longer than the
   * 300 ms call timeout below by itself (seen: the timeout fired before the request was written).
   */
  @org.junit.jupiter.api.BeforeAll
  static void loadTheClassesOfAFirstCall() throws IOException {
    for (boolean tls : new boolean[] {false, true}) {
      try (RawHttpPeer warm = RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_AFTER_RESPONSE, Duration.ZERO, tls)) {
        OkHttpClient client = TimeWaitOkHttp.configure(OkHttpContractClient.trustingBuilder(),
            ServerClose.builder().build(), new CloseAccounting()).build();
        String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + warm.port() + "/";
        try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
          response.body().bytes();
        } finally {
          TimeWaitOkHttp.shutdown(client);
        }
      }
    }
  }

  @BeforeEach
  void readable() {
    KernelTcp.assumeReadable();
  }

  @AfterEach
  void stop() throws IOException {
    if (client != null) {
      TimeWaitOkHttp.shutdown(client);
    }
    if (peer != null) {
      peer.close();
    }
  }

  private Call newCall(boolean tls, ServerClose strategy, OkHttpClient.Builder builder) throws IOException {
    peer = RawHttpPeer.start(RawHttpPeer.Behaviour.NEVER_CLOSE, Duration.ZERO, tls);
    accounting = new CloseAccounting();
    client = TimeWaitOkHttp.configure(builder.eventListener(ports), strategy, accounting).build();
    String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/";
    return client.newCall(new Request.Builder().url(url).build());
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  private void assertResetWithoutFinWait() {
    KernelTcp.awaitClientSettled(peer.port(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isEqualTo(1);
    assertThat(stats.closedByReset()).isEqualTo(1);
    assertThat(stats.finWaitTimeouts()).isZero();
    assertThat(ports.size()).isEqualTo(1);
    assertThat(ports.timeWait()).isZero();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void cancelAfterTheResponseHeadResetsAtOnceWithoutWaitingForAFin(boolean tls) throws Exception {
    Call call = newCall(tls, ServerClose.builder().finWait(LONG_FIN_WAIT).build(),
        OkHttpContractClient.trustingBuilder());
    long start;
    try (Response response = call.execute()) {
      assertThat(response.code()).isEqualTo(200);
      start = System.nanoTime();
      call.cancel();
      assertThat(millisSince(start)).isLessThan(NO_WAIT_BOUND_MS);
    }
    assertThat(millisSince(start)).isLessThan(NO_WAIT_BOUND_MS);
    assertResetWithoutFinWait();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void callTimeoutResetsAtOnceWithoutWaitingForAFin(boolean tls) throws Exception {
    Call call = newCall(tls, ServerClose.builder().finWait(LONG_FIN_WAIT).build(),
        OkHttpContractClient.trustingBuilder().callTimeout(Duration.ofMillis(300)));
    long start = System.nanoTime();
    try (Response response = call.execute()) {
      assertThat(response.code()).isEqualTo(200);
      Thread.sleep(1_000); // the call timeout fires while the body is unread: OkHttp cancels
      assertThat(call.isCanceled()).isTrue();
    }
    assertThat(millisSince(start)).isLessThan(1_000 + NO_WAIT_BOUND_MS);
    assertResetWithoutFinWait();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void closingTheResponseBeforeReadingItResetsWithoutWaitingForAFin(boolean tls) throws Exception {
    Call call = newCall(tls, ServerClose.builder().finWait(LONG_FIN_WAIT).build(),
        OkHttpContractClient.trustingBuilder());
    Response response = call.execute();
    long start = System.nanoTime();
    response.close();
    assertThat(millisSince(start)).isLessThan(NO_WAIT_BOUND_MS);
    assertResetWithoutFinWait();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void callTimeoutDuringTheFinWaitEndsTheWaitAtOnceWithAResetCountedAsAnAbort(boolean tls)
      throws Exception {
    // The call timeout fires while the call's thread, its exchange complete, waits for the FIN
    // (30 s): OkHttp's cancel no longer reaches the socket then, the adapter's tracker does.
    Duration callTimeout = Duration.ofSeconds(2);
    Call call = newCall(tls, ServerClose.builder().finWait(Duration.ofSeconds(30)).build(),
        OkHttpContractClient.trustingBuilder().callTimeout(callTimeout));
    long start = System.nanoTime();
    try (Response response = call.execute()) {
      assertThat(response.body().string()).isEqualTo("ok"); // the close, and its wait, happen here
    } catch (IOException timedOut) {
      // OkHttp may report the timeout on the way out; the accounting below tells what happened
    }
    long took = millisSince(start);
    assertThat(call.isCanceled()).as("the call timeout fired").isTrue();
    assertThat(took).isGreaterThanOrEqualTo(callTimeout.toMillis() - 50)
        .isLessThan(callTimeout.toMillis() + NO_WAIT_BOUND_MS);

    KernelTcp.awaitClientSettled(peer.port(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).as("%s", stats).isEqualTo(1);
    assertThat(stats.closedByReset()).as("%s", stats).isEqualTo(1);
    assertThat(stats.finWaitAborts()).as("%s", stats).isEqualTo(1);
    assertThat(stats.finWaitTimeouts()).as("%s", stats).isZero();
    assertThat(ports.size()).isEqualTo(1);
    assertThat(ports.timeWait()).isZero();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aCompleteExchangeWithAServerThatNeverClosesWaitsOnlyTheFinWaitThenResets(boolean tls)
      throws Exception {
    Duration finWait = Duration.ofMillis(300);
    Call call = newCall(tls, ServerClose.builder().finWait(finWait).build(),
        OkHttpContractClient.trustingBuilder());
    long start = System.nanoTime();
    try (Response response = call.execute()) {
      assertThat(response.body().string()).isEqualTo("ok"); // the close, and its wait, happen here
    }
    long took = millisSince(start);
    assertThat(took).isGreaterThanOrEqualTo(finWait.toMillis() - 50).isLessThan(NO_WAIT_BOUND_MS);

    KernelTcp.awaitClientSettled(peer.port(), SETTLE);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.finWaitTimeouts()).isEqualTo(1);
    assertThat(stats.closedByReset()).isEqualTo(1);
    assertThat(ports.size()).isEqualTo(1);
    assertThat(ports.timeWait()).isZero();
  }
}
