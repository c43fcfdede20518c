package dev.timewait.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.diagnostics.KernelSettings;
import dev.timewait.diagnostics.PortRange;
import dev.timewait.diagnostics.TcpTable;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel gauges over a fixture table in {@code /proc/net/tcp}'s format and fixed kernel
 * settings, on a clock the test moves: values, sampling at most once per interval, NaN where the
 * tables cannot be read, and the builder's checks. The live kernel: {@link MetersPerAdapterTest}.
 */
class KernelGaugesTest {
  /** 40000-40099 with 40010-40019 reserved: 90 usable ports. */
  private static final KernelSettings SETTINGS = KernelSettings.builder()
      .localPortRange(new PortRange(40_000, 40_099))
      .reservedPorts(List.of(new PortRange(40_010, 40_019)))
      .build();
  private static final Duration INTERVAL = Duration.ofSeconds(5);

  @TempDir Path dir;
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private Path tcp;

  @BeforeEach
  void writeTable() throws IOException {
    tcp = dir.resolve("tcp");
    // Towards 127.0.0.1:8080: 5 TIME_WAIT and 1 ESTABLISHED; towards 127.0.0.1:9090: 2 TIME_WAIT.
    table(tcp, List.of(
        line(40_001, 8080, 0x06), line(40_002, 8080, 0x06), line(40_003, 8080, 0x06),
        line(40_004, 8080, 0x06), line(40_005, 8080, 0x06), line(40_006, 8080, 0x01),
        line(40_007, 9090, 0x06), line(40_008, 9090, 0x06)));
  }

  private TimeWaitMetrics.Builder builder() {
    return TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(tcp), () -> SETTINGS, clock::get);
  }

  @Test
  void gaugesReadTimeWaitAndHeadroomTowardsEachDestinationFromTheTable() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    builder().destination("127.0.0.1", 8080).destination("127.0.0.1", 9090)
        .kernelGauges(INTERVAL).build().bindTo(registry);

    assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:8080").value()).isEqualTo(5);
    assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:9090").value()).isEqualTo(2);
    // 90 usable ports less the 6 sockets (any state) that hold one towards 127.0.0.1:8080.
    assertThat(gauge(registry, TimeWaitMetrics.PORT_HEADROOM, "127.0.0.1:8080").value()).isEqualTo(84);
    assertThat(gauge(registry, TimeWaitMetrics.PORT_HEADROOM, "127.0.0.1:9090").value()).isEqualTo(88);
    Gauge timeWait = gauge(registry, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:8080");
    assertThat(timeWait.getId().getBaseUnit()).isEqualTo("connections");
    assertThat(timeWait.getId().getTag("client")).isEqualTo("orders");
    assertThat(gauge(registry, TimeWaitMetrics.PORT_HEADROOM, "127.0.0.1:8080").getId().getBaseUnit())
        .isEqualTo("ports");
  }

  @Test
  void theTableIsScannedAtMostOncePerIntervalHoweverManyGaugesAndRegistriesRead() throws IOException {
    SimpleMeterRegistry one = new SimpleMeterRegistry();
    SimpleMeterRegistry two = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = builder().destination("127.0.0.1", 8080)
        .destination("127.0.0.1", 9090).kernelGauges(INTERVAL).build();
    metrics.bindTo(one);
    metrics.bindTo(two);
    assertThat(metrics.kernelScans()).as("binding scans nothing").isZero();

    for (int i = 0; i < 10; i++) {
      for (SimpleMeterRegistry r : List.of(one, two)) {
        r.find(TimeWaitMetrics.TIME_WAIT).gauges().forEach(Gauge::value);
        r.find(TimeWaitMetrics.PORT_HEADROOM).gauges().forEach(Gauge::value);
      }
    }
    assertThat(metrics.kernelScans()).isEqualTo(1);

    // Within the interval the sample stands, even though the table changed.
    table(tcp, List.of(line(40_001, 8080, 0x06)));
    clock.addAndGet(INTERVAL.toNanos() - 1);
    assertThat(gauge(two, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:8080").value()).isEqualTo(5);
    assertThat(metrics.kernelScans()).isEqualTo(1);

    clock.addAndGet(1);
    assertThat(gauge(one, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:8080").value()).isEqualTo(1);
    assertThat(gauge(two, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:9090").value()).isZero();
    assertThat(metrics.kernelScans()).isEqualTo(2);
  }

  @Test
  void whereTheTablesCannotBeReadTheGaugesReadNaNAndNothingThrows() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(dir.resolve("missing")),
            () -> KernelSettings.unsupported("unsupported on this OS: Mac OS X"), clock::get)
        .destination("127.0.0.1", 8080).kernelGauges(INTERVAL).build();
    metrics.bindTo(registry);

    assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:8080").value()).isNaN();
    assertThat(gauge(registry, TimeWaitMetrics.PORT_HEADROOM, "127.0.0.1:8080").value()).isNaN();
    assertThat(metrics.kernelScans()).isZero();
  }

  @Test
  void withoutKernelGaugesNoGaugeIsRegistered() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = builder().destination("127.0.0.1", 8080).build();
    metrics.bindTo(registry);

    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges()).isEmpty();
    assertThat(registry.find(TimeWaitMetrics.PORT_HEADROOM).gauges()).isEmpty();
    assertThat(metrics.kernelSampleInterval()).isEmpty();
    assertThat(TimeWaitMetrics.of("orders", new CloseAccounting()).kernelSampleInterval()).isEmpty();
    assertThat(builder().kernelGauges().build().kernelSampleInterval())
        .contains(TimeWaitMetrics.DEFAULT_KERNEL_SAMPLE_INTERVAL);
  }

  @Test
  void aBuilderIsImmutableSoItCanServeAsATemplate() {
    TimeWaitMetrics.Builder template = builder().maxDestinations(1);
    TimeWaitMetrics.Builder withGauges = template.kernelGauges(INTERVAL).destination("127.0.0.1", 8080);

    assertThat(template.build().kernelSampleInterval()).isEmpty();
    assertThat(withGauges.build().kernelSampleInterval()).contains(INTERVAL);
    // The template named no destination, so the cap of 1 still has room for another one.
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    template.destination("127.0.0.1", 9090).kernelGauges(INTERVAL).build().bindTo(registry);
    assertThat(registry.find(TimeWaitMetrics.TIME_WAIT).gauges())
        .extracting(g -> g.getId().getTag("destination")).containsExactly("127.0.0.1:9090");
  }

  @Test
  void anIPv6DestinationIsTaggedInBracketsAndReadFromTheTable() throws IOException {
    Path tcp6 = dir.resolve("tcp6");
    // [::1]:8443, as the kernel writes it: four 32-bit words, each in host (little-endian) order.
    String loopback6 = "00000000000000000000000001000000";
    Files.writeString(tcp6, HEADER + String.format(Locale.ROOT,
        "   0: %s:%04X %s:%04X 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0%n",
        loopback6, 40_001, loopback6, 8443), StandardCharsets.US_ASCII);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(tcp6), () -> SETTINGS, clock::get)
        .destination("::1", 8443).kernelGauges(INTERVAL).build().bindTo(registry);

    assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "[::1]:8443").value()).isEqualTo(1);
    assertThat(gauge(registry, TimeWaitMetrics.PORT_HEADROOM, "[::1]:8443").value()).isEqualTo(89);
  }

  @Test
  void builderRejectsBadValuesByName() {
    CloseAccounting accounting = new CloseAccounting();
    assertThatThrownBy(() -> TimeWaitMetrics.builder(null, accounting))
        .isInstanceOf(NullPointerException.class).hasMessage("clientName cannot be null");
    assertThatThrownBy(() -> TimeWaitMetrics.builder("c", null))
        .isInstanceOf(NullPointerException.class).hasMessage("accounting cannot be null");
    TimeWaitMetrics.Builder b = TimeWaitMetrics.builder("c", accounting);
    assertThatThrownBy(() -> b.maxDestinations(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxDestinations must be > 0, but was -3");
    assertThatThrownBy(() -> b.kernelGauges(null))
        .isInstanceOf(NullPointerException.class).hasMessage("kernelSampleInterval cannot be null");
    assertThatThrownBy(() -> b.kernelGauges(Duration.ofSeconds(-3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kernelSampleInterval must be > 0, but was PT-3S");
    assertThatThrownBy(() -> b.kernelGauges(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kernelSampleInterval must be > 0, but was PT0S");
    assertThatThrownBy(() -> b.kernelGauges(Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kernelSampleInterval must be <= PT1H, but was PT2H");
    assertThatThrownBy(() -> b.destination(null, 80))
        .isInstanceOf(NullPointerException.class).hasMessage("host cannot be null");
    assertThatThrownBy(() -> b.destination(" ", 80))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("host must not be blank, but was \" \"");
    assertThatThrownBy(() -> b.destination("h", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> b.destination("h", 65_536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, but was 65536");
    assertThatThrownBy(() -> TimeWaitMetrics.builder("c", accounting).maxDestinations(1)
            .destination("a", 80).destination("b", 80).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destinations must be at most maxDestinations (1), but were 2: [a:80, b:80]");
    assertThatThrownBy(() -> TimeWaitMetrics.builder("c", accounting)
            .destination("a", 80).destination("b", 80).build().maxDestinations(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destinations must be at most maxDestinations (1), but were 2: [a:80, b:80]");
    // The bad values left the builder as it was: it still builds.
    assertThat(b.build().kernelSampleInterval()).isEmpty();
  }

  @Test
  void aNameWhoseLookupHangsCostsASampleAtMostTheLookupBoundAndReadsNaNUntilItEnds()
      throws Exception {
    // DNS down: the lookup of "orders.internal" waits for the resolver; a literal needs none.
    CountDownLatch dnsBack = new CountDownLatch(1);
    List<String> looked = new CopyOnWriteArrayList<>();
    KernelSampler.Lookup lookup = host -> {
      looked.add(host);
      if (host.equals("orders.internal")) {
        try {
          dnsBack.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
      }
      return InetAddress.getAllByName(host);
    };
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(tcp), () -> SETTINGS, clock::get, lookup)
        .destination("orders.internal", 8080).destination("127.0.0.1", 9090)
        .kernelGauges(INTERVAL).build();
    metrics.bindTo(registry);
    try {
      long start = System.nanoTime();
      assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "orders.internal:8080").value()).isNaN();
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("one sample waited the lookup bound, not the resolver")
          .isLessThan(Duration.ofNanos(KernelSampler.LOOKUP_BOUND_NANOS).plusSeconds(3));
      assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "127.0.0.1:9090").value())
          .as("the same sample, a literal").isEqualTo(2);

      clock.addAndGet(INTERVAL.toNanos());
      assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "orders.internal:8080").value())
          .as("still under way: no addresses yet").isNaN();
      assertThat(looked.stream().filter("orders.internal"::equals).count())
          .as("one lookup under way, not one per sample").isEqualTo(1);
      assertThat(looked).as("a literal is parsed, not looked up").doesNotContain("127.0.0.1");

      dnsBack.countDown();
      clock.addAndGet(INTERVAL.toNanos());
      assertThat(gauge(registry, TimeWaitMetrics.TIME_WAIT, "orders.internal:8080").value())
          .as("the lookup ended: its address's sockets").isEqualTo(5);
    } finally {
      dnsBack.countDown();
    }
  }

  /**
   * A sample that took longer than the interval (a hung lookup waits its bound, 1 s) served the
   * rest of the scrape all the same: dated from when it started, it was stale as it was stored,
   * and each later gauge read of that scrape waited and scanned once more.
   */
  @Test
  void aSampleSlowerThanTheIntervalServesTheRestOfTheScrape() throws Exception {
    CountDownLatch dnsBack = new CountDownLatch(1);
    KernelSampler.Lookup lookup = host -> {
      try {
        dnsBack.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
    };
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(tcp), () -> SETTINGS, System::nanoTime, lookup)
        .destination("orders.internal", 8080).destination("127.0.0.1", 9090)
        .kernelGauges(Duration.ofMillis(500)).build();
    metrics.bindTo(registry);
    try {
      for (String name : List.of(TimeWaitMetrics.TIME_WAIT, TimeWaitMetrics.PORT_HEADROOM)) {
        for (String destination : List.of("orders.internal:8080", "127.0.0.1:9090")) {
          gauge(registry, name, destination).value();
        }
      }
      assertThat(metrics.kernelScans()).as("one scrape of four gauges, one sample").isEqualTo(1);
    } finally {
      dnsBack.countDown();
    }
  }

  @Test
  void aLookupThreadTakesTheLibrarysClassLoaderNotTheReadersNorItsThreadLocals() throws Exception {
    // A gauge read by a web request's scrape: the lookup thread it makes lives on for 30 s, and
    // with the reader's context class loader it kept an undeployed application's loader.
    List<ClassLoader> loaders = new CopyOnWriteArrayList<>();
    List<Object> inherited = new CopyOnWriteArrayList<>();
    InheritableThreadLocal<String> request = new InheritableThreadLocal<>();
    KernelSampler.Lookup lookup = host -> {
      loaders.add(Thread.currentThread().getContextClassLoader());
      inherited.add(String.valueOf(request.get()));
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
    };
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TimeWaitMetrics metrics = TimeWaitMetrics.builder("orders", new CloseAccounting())
        .kernel(TcpTable.of(tcp), () -> SETTINGS, clock::get, lookup)
        .destination("orders.internal", 8080)
        .kernelGauges(INTERVAL).build();
    metrics.bindTo(registry);
    ClassLoader application = new java.net.URLClassLoader(new java.net.URL[0], getClass().getClassLoader());
    Thread reader = new Thread(() -> {
      request.set("a web request's");
      gauge(registry, TimeWaitMetrics.TIME_WAIT, "orders.internal:8080").value();
    }, "a-scrape");
    reader.setContextClassLoader(application);
    reader.start();
    reader.join(10_000);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (loaders.isEmpty() && System.nanoTime() - until < 0) {
      Thread.sleep(10);
    }
    assertThat(loaders).singleElement().isSameAs(KernelSampler.class.getClassLoader());
    assertThat(inherited).containsExactly("null");
  }

  private static Gauge gauge(SimpleMeterRegistry registry, String name, String destination) {
    return registry.get(name).tag("destination", destination).gauge();
  }

  private static final String HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr"
      + " tm->when retrnsmt   uid  timeout inode\n";

  /** One IPv4 socket from 127.0.0.1:localPort to 127.0.0.1:remotePort in {@code state}. */
  private static String line(int localPort, int remotePort, int state) {
    return String.format(Locale.ROOT,
        "0100007F:%04X 0100007F:%04X %02X 00000000:00000000 03:00001000 00000000     0        0 0 3 0",
        localPort, remotePort, state);
  }

  private static void table(Path file, List<String> sockets) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < sockets.size(); i++) {
      lines.add(String.format(Locale.ROOT, "%4d: %s", i, sockets.get(i)));
    }
    Files.writeString(file, HEADER + String.join("\n", lines) + "\n", StandardCharsets.US_ASCII);
  }
}
