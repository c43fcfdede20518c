package dev.timewait.testing;

import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Assumptions;

/**
 * Virtual threads for the contracts' cases that run on them (JDK 21+, as Spring Boot runs blocking
 * clients with {@code spring.threads.virtual.enabled}), reached by reflection since the kit is
 * built for Java 17; on an older JDK the test is skipped, saying why. Stateless and thread-safe.
 */
final class VirtualThreads {
  private VirtualThreads() {}

  /** A new unstarted virtual thread running {@code task}; skips the test before JDK 21. */
  static Thread unstarted(Runnable task) throws Exception {
    assumeAvailable();
    Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
    return (Thread) Class.forName("java.lang.Thread$Builder")
        .getMethod("unstarted", Runnable.class).invoke(builder, task);
  }

  /** An executor that starts a virtual thread per task; skips the test before JDK 21. */
  static ExecutorService perTask() throws Exception {
    assumeAvailable();
    return (ExecutorService) java.util.concurrent.Executors.class
        .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
  }

  /** Skips the test, saying why, on a JDK without virtual threads. */
  static void assumeAvailable() {
    try {
      Thread.class.getMethod("ofVirtual");
    } catch (NoSuchMethodException e) {
      Assumptions.abort("virtual threads need JDK 21 or later; this is " + Runtime.version());
    }
  }
}
