package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The monitor's sampling thread when its samples fail. */
class SamplerThreadTest {
  private static final Duration BOUND = Duration.ofSeconds(20);

  @Test
  void aSampleThatFailsEveryPeriodWarnsOnceAndSamplingGoesOn() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    SamplerThread sampler = new SamplerThread("sampler-test-failing", Duration.ofMillis(10), () -> {
      runs.incrementAndGet();
      throw new IllegalStateException("the table cannot be read");
    });
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8)); // slf4j-simple's target
    try {
      sampler.start(() -> null, "destinations");
      assertThat(await(() -> runs.get() >= 10)).isTrue();
    } finally {
      sampler.close();
      System.setErr(err);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log.split("WARN .*a sample failed", -1)).as("WARN lines in:%n%s", log).hasSize(2);
  }

  @Test
  void aSampleThrowingACheckedExceptionDoesNotEndTheThread() throws Exception {
    // A listener in Kotlin, or with @SneakyThrows, reached through the sample, can throw an
    // IOException Java does not declare: it ended the thread, and sampling with it.
    AtomicInteger runs = new AtomicInteger();
    SamplerThread sampler = new SamplerThread("sampler-test-checked", Duration.ofMillis(10), () -> {
      runs.incrementAndGet();
      MonitorListenersTest.<RuntimeException>sneakyThrow(new java.io.IOException("undeclared"));
    });
    PrintStream err = System.err;
    System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)); // the WARN, kept quiet
    try {
      sampler.start(() -> null, "destinations");
      assertThat(await(() -> runs.get() >= 3)).isTrue();
      assertThat(sampler.isRunning()).isTrue();
    } finally {
      sampler.close();
      System.setErr(err);
    }
  }

  @Test
  void aThreadEndedByAVirtualMachineErrorIsNoLongerRunning() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    SamplerThread sampler = new SamplerThread("sampler-test-dying", Duration.ofMillis(10), () -> {
      runs.incrementAndGet();
      throw new InternalError("a VirtualMachineError");
    });
    Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> { }); // the expected death, kept quiet
    try {
      sampler.start(() -> null, "destinations");
      assertThat(await(() -> runs.get() >= 1 && !sampler.isRunning())).isTrue();
      Thread.sleep(50);
      assertThat(runs.get()).as("no sample after the thread's end").isEqualTo(1);
    } finally {
      sampler.close();
      Thread.setDefaultUncaughtExceptionHandler(handler);
    }
  }

  @Test
  void theThreadTakesTheLibrarysClassLoaderNotTheStartersNorItsThreadLocals() throws Exception {
    List<ClassLoader> loaders = new CopyOnWriteArrayList<>();
    List<String> inherited = new CopyOnWriteArrayList<>();
    InheritableThreadLocal<String> request = new InheritableThreadLocal<>();
    SamplerThread sampler = new SamplerThread("sampler-test-loader", Duration.ofMillis(10), () -> {
      loaders.add(Thread.currentThread().getContextClassLoader());
      inherited.add(String.valueOf(request.get()));
    });
    ClassLoader application = new URLClassLoader(new URL[0], getClass().getClassLoader());
    Thread starter = new Thread(() -> {
      request.set("a web request's");
      sampler.start(() -> null, "destinations");
    }, "a-request");
    starter.setContextClassLoader(application);
    try {
      starter.start();
      starter.join(10_000);
      assertThat(await(() -> !loaders.isEmpty())).isTrue();
    } finally {
      sampler.close();
    }
    assertThat(loaders).first().isSameAs(SamplerThread.class.getClassLoader());
    assertThat(inherited).first().isEqualTo("null");
  }

  private static boolean await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }
}
