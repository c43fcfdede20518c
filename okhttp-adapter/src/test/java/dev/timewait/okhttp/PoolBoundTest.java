package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What maxTotal and maxPerRoute mean for OkHttp: the calls in flight, and so the connections in
 * use, are bounded for synchronous and asynchronous calls alike; with one route that bounds the
 * open connections. Peaks are sampled from the kernel's table (ESTABLISHED towards the server,
 * each socket once) and checked against the connections the client opened.
 */
class PoolBoundTest {
  private WireMockServer server;
  private OkHttpClient client;

  @BeforeEach
  void start() {
    KernelTcp.assumeReadable();
    server = TestServers.startWireMock();
  }

  @AfterEach
  void stop() {
    if (client != null) {
      TimeWaitOkHttp.shutdown(client);
    }
    server.stop();
  }

  /**
   * Samples the peak of ESTABLISHED client sockets towards {@code ports} while running, each
   * socket once per sample ({@link KernelTcp#clientConnections}: one scan of the table can list a
   * socket two or three times on a loaded machine), and keeps the sockets of each port's peak for
   * the assertion's message.
   */
  private static final class PeakSampler implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicInteger[] peaks;
    private final List<Set<KernelTcp.Connection>> atPeak;
    private final Thread thread;

    PeakSampler(int... ports) {
      peaks = new AtomicInteger[ports.length];
      atPeak = new ArrayList<>();
      for (int i = 0; i < ports.length; i++) {
        peaks[i] = new AtomicInteger();
        atPeak.add(Set.of());
      }
      thread = new Thread(() -> {
        while (running.get()) {
          int total = 0;
          for (int i = 0; i < ports.length; i++) {
            Set<KernelTcp.Connection> sockets =
                KernelTcp.clientConnections(TcpState.ESTABLISHED, ports[i]);
            int n = sockets.size();
            if (n > peaks[i].get()) {
              peaks[i].set(n); // only this thread writes
              atPeak.set(i, sockets);
            }
            total += n;
          }
          peak.accumulateAndGet(total, Math::max);
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "peak-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    int peak() {
      return peak.get();
    }

    int peak(int index) {
      return peaks[index].get();
    }

    /** The sockets of port {@code index}'s peak, in words. Read after {@link #stop()}. */
    String describe(int index) {
      return "peak " + peaks[index].get() + " ESTABLISHED: " + atPeak.get(index);
    }

    @Override
    public void close() {
      stop();
    }

    /** Stops sampling; the peaks stay readable. */
    void stop() {
      running.set(false);
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void synchronousCallsNeverHaveMoreThanMaxTotalConnectionsOpen() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder(),
        PooledKeepAlive.builder().maxTotal(3).build(), accounting).build();
    String url = TestServers.url(server, false, "/slow");

    try (PeakSampler sampler = new PeakSampler(server.port())) {
      assertThat(TestServers.load(client, url, 200, 16, 120)).isEqualTo(200);
      sampler.stop();
      System.out.printf("maxTotal 3, 16 threads: %s%n", sampler.describe(0));
      assertThat(sampler.peak()).as(sampler.describe(0)).isBetween(1, 3);
    }
    assertThat(accounting.snapshot().connectionsOpened()).isBetween(1L, 3L);
  }

  @Test
  void theControlOkHttpsOwnPoolBoundsOnlyIdleConnections() throws Exception {
    client = new OkHttpClient.Builder()
        .connectionPool(new ConnectionPool(3, 30, TimeUnit.SECONDS)).build();
    String url = TestServers.url(server, false, "/slow");

    try (PeakSampler sampler = new PeakSampler(server.port())) {
      assertThat(TestServers.load(client, url, 200, 16, 120)).isEqualTo(200);
      sampler.stop();
      System.out.printf("OkHttp's ConnectionPool(3, ...), 16 threads: peak %d ESTABLISHED%n", sampler.peak());
      assertThat(sampler.peak()).isGreaterThan(3);
    }
  }

  @Test
  void asynchronousCallsAreBoundedTooWithTheBuildersOwnDispatcher() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder(),
        PooledKeepAlive.builder().maxTotal(3).build(), accounting).build();
    assertThat(client.dispatcher().getMaxRequestsPerHost()).isGreaterThan(3); // OkHttp's default, 5
    String url = TestServers.url(server, false, "/slow");
    int calls = 60;
    CountDownLatch done = new CountDownLatch(calls);
    AtomicInteger ok = new AtomicInteger();

    try (PeakSampler sampler = new PeakSampler(server.port())) {
      for (int i = 0; i < calls; i++) {
        client.newCall(new Request.Builder().url(url).build()).enqueue(new Callback() {
          @Override
          public void onResponse(Call call, Response response) throws IOException {
            try (response) {
              response.body().bytes();
              if (response.code() == 200) {
                ok.incrementAndGet();
              }
            } finally {
              done.countDown();
            }
          }

          @Override
          public void onFailure(Call call, IOException e) {
            done.countDown();
          }
        });
      }
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
      sampler.stop();
      assertThat(sampler.peak()).as(sampler.describe(0)).isBetween(1, 3);
    }
    assertThat(ok.get()).isEqualTo(calls);
    assertThat(accounting.snapshot().connectionsOpened()).isBetween(1L, 3L);
  }

  @Test
  void maxPerRouteBoundsEachRouteAndMaxTotalAllOfThem() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    client = TimeWaitOkHttp.configure(OkHttpContractClient.trustingBuilder(),
        PooledKeepAlive.builder().maxTotal(4).maxPerRoute(2).build(), accounting).build();
    String plain = TestServers.url(server, false, "/slow");
    String tls = TestServers.url(server, true, "/slow");

    try (PeakSampler sampler = new PeakSampler(server.port(), server.httpsPort())) {
      CompletableFuture<Integer> a = CompletableFuture.supplyAsync(() -> load(plain));
      CompletableFuture<Integer> b = CompletableFuture.supplyAsync(() -> load(tls));
      assertThat(a.get(120, TimeUnit.SECONDS)).isEqualTo(100);
      assertThat(b.get(120, TimeUnit.SECONDS)).isEqualTo(100);
      sampler.stop();
      assertThat(sampler.peak(0)).as(sampler.describe(0)).isBetween(1, 2);
      assertThat(sampler.peak(1)).as(sampler.describe(1)).isBetween(1, 2);
      assertThat(sampler.peak()).isBetween(2, 4);
    }
    // The client's own count beside the kernel's: no connection was ever opened beyond the bounds.
    assertThat(accounting.snapshot().connectionsOpened()).isBetween(2L, 4L);
  }

  private int load(String url) {
    try {
      return TestServers.load(client, url, 100, 8, 120);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aCallWaitsForASlotAtMostItsConnectTimeout() throws Exception {
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().connectTimeout(Duration.ofMillis(300)),
        PooledKeepAlive.builder().maxTotal(1).build()).build();
    Request request = new Request.Builder().url(TestServers.url(server, false, "/hello")).build();

    try (Response held = client.newCall(request).execute()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.newCall(request).execute())
          .isInstanceOf(InterruptedIOException.class)
          .hasMessageContaining("ms waiting for a connection slot (maxTotal 1, maxPerRoute 1, 1 in use)");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 5_000L);
      assertThat(held.body().string()).isEqualTo("hello");
    }
    assertThat(TestServers.fetch(client, request.url().toString()).code()).isEqualTo(200);
  }

  @Test
  void cancelAndTheCallTimeoutEndTheWaitForASlot() throws Exception {
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(30)),
        PooledKeepAlive.builder().maxTotal(1).build()).build();
    Request request = new Request.Builder().url(TestServers.url(server, false, "/hello")).build();

    try (Response held = client.newCall(request).execute()) {
      Call waiting = client.newCall(request);
      CompletableFuture<Response> result = CompletableFuture.supplyAsync(() -> {
        try {
          return waiting.execute();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(200);
      long start = System.nanoTime();
      waiting.cancel();
      assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).hasRootCauseMessage("Canceled");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000L);

      Call timed = client.newCall(request);
      timed.timeout().timeout(300, TimeUnit.MILLISECONDS);
      start = System.nanoTime();
      assertThatThrownBy(timed::execute).isInstanceOf(InterruptedIOException.class);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 5_000L);
      assertThat(held.body().string()).isEqualTo("hello");
    }
  }

  @Test
  void waitingCallsGetSlotsInTheOrderTheyCameAndNoLaterCallTakesOneFirst() throws Exception {
    // Before, a freed slot woke every waiting call to race for it (10,000 virtual threads
    // waiting for 20 slots: 10,000 wake-ups per freed slot), and the race had no order: a call
    // could wait through many frees until its wait ran out while later calls went first.
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(30)),
        PooledKeepAlive.builder().maxTotal(1).build()).build();
    Request request = new Request.Builder().url(TestServers.url(server, false, "/hello")).build();
    int waiting = 12;
    List<Integer> served = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    try (Response held = client.newCall(request).execute()) {
      for (int i = 0; i < waiting; i++) {
        int index = i;
        Thread t = new Thread(() -> {
          try (Response response = client.newCall(request).execute()) {
            served.add(index);
            response.body().string();
          } catch (IOException e) {
            served.add(-1 - index);
          }
        }, "waiting-call-" + i);
        t.start();
        threads.add(t);
        awaitWaitingForASlot(t); // in order: each call waits before the next one comes
      }
      assertThat(held.body().string()).isEqualTo("hello");
    }
    for (Thread t : threads) {
      t.join(20_000);
      assertThat(t.isAlive()).as("%s ended", t.getName()).isFalse();
    }
    List<Integer> inOrder = new ArrayList<>();
    for (int i = 0; i < waiting; i++) {
      inOrder.add(i);
    }
    assertThat(served).as("the order in which waiting calls got the slot").isEqualTo(inOrder);
  }

  /** Waits (bounded) until {@code t} is parked in the slot wait. */
  private static void awaitWaitingForASlot(Thread t) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      Thread.State state = t.getState();
      if (state == Thread.State.TIMED_WAITING || state == Thread.State.WAITING) {
        for (StackTraceElement frame : t.getStackTrace()) {
          if (frame.getClassName().equals(SlotInterceptor.class.getName())
              && frame.getMethodName().equals("acquire")) {
            return;
          }
        }
      }
      Thread.sleep(1);
    }
    throw new AssertionError(t.getName() + " never waited for a slot");
  }

  @Test
  void aLeakedResponseGivesItsSlotBackOnceTheCallIsCollected() throws Exception {
    client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(20)),
        PooledKeepAlive.builder().maxTotal(1).build()).build();
    String url = TestServers.url(server, false, "/hello");
    leak(url);

    AtomicBoolean done = new AtomicBoolean();
    Thread collector = new Thread(() -> {
      while (!done.get()) {
        System.gc();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    collector.setDaemon(true);
    collector.start();
    try {
      assertThat(TestServers.fetch(client, url).code()).isEqualTo(200);
    } finally {
      done.set(true);
      collector.join(5_000);
    }
  }

  private void leak(String url) throws IOException {
    Response leaked = client.newCall(new Request.Builder().url(url).build()).execute();
    assertThat(leaked.code()).isEqualTo(200); // and never closed
  }
}
