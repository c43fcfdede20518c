package dev.timewait.junit5;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fails a test (or a class) that leaves more client TIME_WAIT sockets towards a destination than
 * it {@linkplain #allowed() may}: configures {@link TimeWaitGuard}, which this annotation also
 * registers, so {@code @ExtendWith(TimeWaitGuard.class)} may be written or left out.
 *
 * <p>Name the destination in exactly one way: {@link #port()}, or {@link #portSupplier()} (the
 * name of a field or method of the test class that yields the port at run time). {@link #host()}
 * narrows either to one host: an IP literal, or a name whose every address counts.
 *
 * <pre>{@code
 * @GuardTimeWait(host = "127.0.0.1", port = 8089)
 * class FixedPortTest { ... }
 *
 * @WireMockTest                                   // a dynamic port, from WireMock's extension
 * @GuardTimeWait(portSupplier = "wireMockPort")
 * class WireMockClientTest {
 *   static int wireMockPort(WireMockRuntimeInfo wm) { // parameters are resolved by JUnit
 *     return wm.getHttpPort();
 *   }
 *   @Test void fetchesTheCatalog(@TimeWaitClient(strategy = RESET) CloseableHttpClient client) { ... }
 * }
 * }</pre>
 *
 * <p>On a method it applies to that test and overrides the class's annotation for it. It is
 * inherited by subclasses and seen by {@code @Nested} classes. Off Linux the check is skipped
 * with a report entry; it never fails a test there.
 *
 * <p>Annotations are immutable and thread-safe.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TimeWaitGuard.class)
public @interface GuardTimeWait {

  /** {@return the destination's port, 1 to 65535; 0 (the default) means "not given here"} */
  int port() default 0;

  /**
   * The destination's address, an IP literal such as {@code "127.0.0.1"} (a name is resolved
   * once, and must resolve to the address the client connects to). Empty (the default) means
   * any address: the client side of every connection to the port counts.
   *
   * @return the destination's address, an IP literal such as {@code "127.0.0.1"}, or a name, resolved once: every address it resolves to counts (a dual-stack client may reach {@code localhost} at ::1)
   */
  String host() default "";

  /**
   * The name of a field or method of the test class (or a superclass, or an enclosing class)
   * that yields the destination when the check starts: a port ({@code int} or any {@link
   * Number}), a {@link java.net.InetSocketAddress}, a {@code "host:port"} or {@code "port"}
   * string, or an {@link java.util.function.IntSupplier} or {@link java.util.function.Supplier}
   * of one of these. Static or instance; a method's parameters are resolved by JUnit's
   * parameter resolvers, e.g. WireMock's {@code WireMockRuntimeInfo}. Empty by default.
   *
   * <p>The guard first asks before the {@code @BeforeEach} methods (before {@code @BeforeAll}
   * for {@link GuardScope#PER_CLASS}); if the member yields nothing usable yet (0, null, or an
   * exception) it asks again right before the test method, after them, and only then fails.
   *
   * @return the name of a field or method of the test class (or a superclass, or an enclosing class) that yields the destination when the check starts
   */
  String portSupplier() default "";

  /**
   * How many new client TIME_WAIT sockets towards the destination pass; one more fails. Default
   * {@value TimeWaitGuard#DEFAULT_ALLOWED}.
   *
   * @return how many new client TIME_WAIT sockets towards the destination pass
   */
  int allowed() default TimeWaitGuard.DEFAULT_ALLOWED;

  /** {@return per test or per class; default {@link GuardScope#PER_TEST}} */
  GuardScope scope() default GuardScope.PER_TEST;

  /**
   * The longest the guard waits after the test for the client's closing sockets (FIN_WAIT1,
   * FIN_WAIT2, CLOSING) to settle before it counts; 0 to 60000. Default
   * {@value TimeWaitGuard#DEFAULT_SETTLE_MILLIS}. Sockets still closing then count as new
   * TIME_WAIT: the client closed them first.
   *
   * @return the longest the guard waits after the test for the client's closing sockets (FIN_WAIT1, FIN_WAIT2, CLOSING) to settle before it counts
   */
  long settleMillis() default TimeWaitGuard.DEFAULT_SETTLE_MILLIS;
}
