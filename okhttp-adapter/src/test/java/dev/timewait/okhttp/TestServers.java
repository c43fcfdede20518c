package dev.timewait.okhttp;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.testing.TestTls;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** WireMock on loopback, plain and HTTPS (certificate for localhost), and a bounded load loop. */
final class TestServers {
  private TestServers() {}

  /** The size of {@code /big}. */
  static final int BIG = 512 * 1024;

  /**
   * WireMock with {@code /hello} (5 bytes), {@code /slow} (5 bytes after 20 ms) and {@code /big}
   * ({@link #BIG} bytes).
   */
  static WireMockServer startWireMock() {
    WireMockServer server = new WireMockServer(wireMockConfig()
        .bindAddress("127.0.0.1")
        .dynamicPort()
        .dynamicHttpsPort()
        .keystorePath(TestTls.get().keyStorePath().toString())
        .keystorePassword(TestTls.PASSWORD)
        .keyManagerPassword(TestTls.PASSWORD)
        .keystoreType("PKCS12")
        .containerThreads(32));
    server.start();
    server.stubFor(get(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200).withBody("hello")));
    server.stubFor(get(urlEqualTo("/slow"))
        .willReturn(aResponse().withStatus(200).withBody("hello").withFixedDelay(20)));
    server.stubFor(get(urlEqualTo("/big")).willReturn(aResponse().withStatus(200).withBody(new byte[BIG])));
    return server;
  }

  static String url(WireMockServer server, boolean tls, String path) {
    return tls
        ? "https://localhost:" + server.httpsPort() + path
        : "http://127.0.0.1:" + server.port() + path;
  }

  static int port(WireMockServer server, boolean tls) {
    return tls ? server.httpsPort() : server.port();
  }

  /** GET, read the whole body, return the response (closed). */
  static Response fetch(OkHttpClient client, String url) throws IOException {
    try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
      response.body().bytes();
      return response;
    }
  }

  /**
   * Runs {@code requests} GETs on {@code threads} threads, bounded by {@code boundSeconds}; returns
   * the number of 200 responses.
   */
  static int load(OkHttpClient client, String url, int requests, int threads, long boundSeconds)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(workers.submit(() -> {
          while (next.getAndIncrement() < requests) {
            if (fetch(client, url).code() == 200) {
              ok.incrementAndGet();
            }
          }
          return null;
        }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(boundSeconds);
      for (Future<?> f : futures) {
        f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } finally {
      workers.shutdownNow();
    }
    return ok.get();
  }
}
