package dev.timewait.junit5;

import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.internal.Preconditions;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit 5 extension that fails a test which leaves client TIME_WAIT: it counts the client side
 * of the connections to one destination in the kernel's TCP table ({@link TcpTable}, {@link
 * TcpFilter#remotePort} or {@link TcpFilter#remote}) before and after the test, waits briefly
 * (bounded) for closing sockets to settle, and fails if more new TIME_WAIT sockets appeared than
 * allowed. The failure names the numbers, the destination and the cause, e.g. {@code "12 new
 * client TIME_WAIT sockets towards 127.0.0.1:8089 during test fetch() (allowed: 0; ...); the
 * client closed first. Use a timewait strategy, see README#strategies"}.
 *
 * <p>Configure it with {@link GuardTimeWait} (which registers it, so {@code
 * @ExtendWith(TimeWaitGuard.class)} is optional), or register a configured instance:
 *
 * <pre>{@code
 * @ExtendWith(TimeWaitGuard.class)
 * @GuardTimeWait(host = "127.0.0.1", port = 8089)          // per test, none allowed
 * class CatalogClientTest { ... }
 *
 * class PricingClientTest {
 *   @RegisterExtension
 *   static WireMockExtension wm = WireMockExtension.newInstance().build();
 *   @RegisterExtension                                     // static: may use PER_CLASS
 *   static TimeWaitGuard guard = TimeWaitGuard.builder()
 *       .port(() -> wm.getPort())
 *       .allowed(5)
 *       .build();
 * }
 * }</pre>
 *
 * <p>Each result is published as a report entry under {@value #REPORT_KEY}. Off Linux (or
 * wherever the table cannot be read) the check is skipped with such an entry and a debug log;
 * it never fails a test there.
 *
 * <p>What it sees: the kernel's table is the whole machine's, so connections to the destination
 * made by anything else during the test count too (it compares sockets, not counts, so TIME_WAIT
 * sockets of earlier tests that expire during the test hide none). Tests that share a destination
 * should therefore not run in parallel with guarded ones (use {@code @Isolated} or
 * {@code @ResourceLock}); prefer a fresh port per class, as WireMock's dynamic ports give.
 * Clients handed out by {@link TimeWaitClientResolver} are closed before the count, so what
 * their close leaves counts too. A class may register several guards (one per server it talks
 * to): each checks its own destination. A {@link GuardTimeWait} that JUnit made no guard for
 * (on a method beside a guard in a static field: JUnit registers an extension type once per
 * class) fails the test, as its check would never run.
 *
 * <p>Immutable and thread-safe: one instance may serve tests running in parallel; the state of
 * each check lives in the test's extension context.
 */
public final class TimeWaitGuard
    implements BeforeAllCallback, BeforeEachCallback, BeforeTestExecutionCallback, AfterEachCallback,
        AfterAllCallback {

  /** The default number of new client TIME_WAIT sockets that pass: {@value}. */
  public static final int DEFAULT_ALLOWED = 0;
  /** The default scope: {@link GuardScope#PER_TEST}. */
  public static final GuardScope DEFAULT_SCOPE = GuardScope.PER_TEST;
  /** The default bound, in milliseconds, on the wait for closing sockets to settle: {@value}. */
  public static final long DEFAULT_SETTLE_MILLIS = 2000;
  /** The default bound on the wait for closing sockets to settle: 2 s. */
  public static final Duration DEFAULT_SETTLE = Duration.ofMillis(DEFAULT_SETTLE_MILLIS);
  /** The longest settle bound accepted: 1 minute. */
  public static final Duration MAX_SETTLE = Duration.ofMinutes(1);
  /** The key of the report entries the guard publishes: {@value}. */
  public static final String REPORT_KEY = "timewait.guard";

  private static final Namespace NAMESPACE = Namespace.create(TimeWaitGuard.class);

  private final GuardConfig config;
  private final TcpTable table;

  /**
   * A guard configured by {@link GuardTimeWait} on the test method or class; what JUnit creates
   * for {@code @ExtendWith(TimeWaitGuard.class)}. Tests without the annotation are not checked.
   */
  public TimeWaitGuard() {
    this(null, TcpTable.system());
  }

  private TimeWaitGuard(GuardConfig config, TcpTable table) {
    this.config = config;
    this.table = table;
  }

  /** {@return a builder for a guard registered with {@code @RegisterExtension}} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    GuardConfig c = classConfig(context);
    if (c != null && c.scope == GuardScope.PER_CLASS) {
      if (config != null && ancestorWatch(context) != null) {
        return; // a registered guard reaches @Nested classes too: the outer class's check covers them
      }
      Watch watch = new Watch(c, table, "class " + context.getRequiredTestClass().getSimpleName());
      store(context).put(key(context), watch);
      watch.start(context, false);
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    GuardConfig c = testConfig(context);
    if (config != null && c.scope == GuardScope.PER_CLASS && ancestorWatch(context) == null) {
      // JUnit calls beforeAll and afterAll only on extensions in static fields (JUnit 5 issue
      // 3004, by design): a PER_CLASS guard in an instance field would check nothing, silently.
      throw new ExtensionConfigurationException("a TimeWaitGuard with scope PER_CLASS must be"
          + " registered in a static @RegisterExtension field: JUnit calls beforeAll and afterAll"
          + " only on those, so in an instance field it would check nothing");
    }
    if (config == null && c != null) {
      // An annotation's guard is here: a registered guard beside it checks for this mark.
      store(context).put(annotationGuardKey(context), Boolean.TRUE);
    }
    if (c != null && c.scope == GuardScope.PER_TEST) {
      Watch watch = new Watch(c, table, "test " + testName(context));
      store(context).put(key(context), watch);
      watch.start(context, false);
    }
  }

  @Override
  public void beforeTestExecution(ExtensionContext context) {
    if (config != null) {
      rejectAnAnnotationWithoutItsGuard(context); // after every guard's beforeEach
    }
    Watch own = store(context).get(key(context), Watch.class);
    if (own != null) {
      own.start(context, true);
    }
    for (Optional<ExtensionContext> p = context.getParent(); p.isPresent(); p = p.get().getParent()) {
      ExtensionContext ancestor = p.get();
      Watch classWatch = store(ancestor).get(key(ancestor), Watch.class);
      if (classWatch != null) {
        classWatch.start(context, true);
      }
    }
  }

  private Watch ancestorWatch(ExtensionContext context) {
    for (Optional<ExtensionContext> p = context.getParent(); p.isPresent(); p = p.get().getParent()) {
      Watch watch = store(p.get()).get(key(p.get()), Watch.class);
      if (watch != null) {
        return watch;
      }
    }
    return null;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    closeAndFinish(context);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    closeAndFinish(context);
  }

  /**
   * Closes the clients resolved here, then counts: the count runs even when a client's close
   * fails (its verdict would otherwise be lost), and the close's failure is thrown with it.
   */
  private void closeAndFinish(ExtensionContext context) throws Exception {
    Watch watch = store(context).remove(key(context), Watch.class);
    if (watch == null) {
      return;
    }
    try {
      TimeWaitClientResolver.closeClients(context);
    } catch (Exception | Error closing) {
      try {
        watch.finish(context);
      } catch (Exception | Error counting) {
        counting.addSuppressed(closing);
        throw counting;
      }
      throw closing;
    }
    watch.finish(context);
  }

  /** This guard's settings for the class of {@code context}, or null. */
  private GuardConfig classConfig(ExtensionContext context) {
    if (config != null) {
      return config;
    }
    Class<?> testClass = context.getRequiredTestClass();
    return AnnotationSupport.findAnnotation(testClass, GuardTimeWait.class)
        .map(a -> GuardConfig.of(a, testClass.getName()))
        .orElse(null);
  }

  /** This guard's settings for the test of {@code context}: the method's, else the nearest class's. */
  private GuardConfig testConfig(ExtensionContext context) {
    return config != null ? config : annotationConfig(context);
  }

  /** The test's {@link GuardTimeWait} settings: the method's, else the nearest class's; or null. */
  private static GuardConfig annotationConfig(ExtensionContext context) {
    Method method = context.getRequiredTestMethod();
    Optional<GuardTimeWait> onMethod = AnnotationSupport.findAnnotation(method, GuardTimeWait.class);
    if (onMethod.isPresent()) {
      String where = method.getDeclaringClass().getName() + "." + method.getName() + "()";
      if (onMethod.get().scope() == GuardScope.PER_CLASS) {
        throw new ExtensionConfigurationException(
            "@GuardTimeWait on " + where + ": scope PER_CLASS belongs on a test class, not on a method");
      }
      return GuardConfig.of(onMethod.get(), where);
    }
    for (Optional<ExtensionContext> p = context.getParent(); p.isPresent(); p = p.get().getParent()) {
      Optional<Class<?>> testClass = p.get().getTestClass();
      if (testClass.isEmpty() || p.get().getTestMethod().isPresent()) {
        continue;
      }
      Optional<GuardTimeWait> onClass = AnnotationSupport.findAnnotation(testClass.get(), GuardTimeWait.class);
      if (onClass.isPresent()) {
        return GuardConfig.of(onClass.get(), testClass.get().getName());
      }
    }
    return null;
  }

  /**
   * A registered guard next to a {@link GuardTimeWait} that applies to this test, whose own guard
   * JUnit did not make: JUnit registers an extension type once per class, so a method's (or a
   * nested class's) annotation beside a guard in a static field makes none, and its check would
   * silently never run. (A class's annotation is registered before static fields, and a guard in
   * an instance field is not counted as the type's: those annotations get their guard.)
   */
  private void rejectAnAnnotationWithoutItsGuard(ExtensionContext context) {
    if (annotationConfig(context) == null || store(context).get(annotationGuardKey(context)) != null) {
      return;
    }
    Method method = context.getRequiredTestMethod();
    throw new ExtensionConfigurationException("@GuardTimeWait on or above " + method.getDeclaringClass().getName()
        + "." + method.getName() + "() is not applied: a TimeWaitGuard is registered with @RegisterExtension,"
        + " and JUnit made no guard for the annotation, so its check would never run. Register a second guard"
        + " with TimeWaitGuard.builder() for that destination, or use the annotation alone");
  }

  /** The store key of the mark an annotation's guard leaves for a test. */
  private static String annotationGuardKey(ExtensionContext context) {
    return "annotation-guard:" + context.getUniqueId();
  }

  /** "fetch()", or "fetch() [2] 8080" for a repeated or parameterized test. */
  private static String testName(ExtensionContext context) {
    String method = context.getRequiredTestMethod().getName();
    String display = context.getDisplayName();
    return display.startsWith(method + "(") ? method + "()" : method + "() " + display;
  }

  private static ExtensionContext.Store store(ExtensionContext context) {
    return context.getStore(NAMESPACE);
  }

  /**
   * A key of this guard's and this context's own: store lookups fall through to the parents'
   * values, and a class may register more than one guard (one per server it talks to), each with
   * its own check (keyed by the context alone, the second guard's replaced the first's and one
   * destination went unchecked).
   */
  private WatchKey key(ExtensionContext context) {
    return new WatchKey(this, context.getUniqueId());
  }

  /** A store key: the guard by identity (it does not override equals) and the context's id. */
  private record WatchKey(TimeWaitGuard guard, String contextId) {}

  @Override
  public String toString() {
    return "TimeWaitGuard[" + (config == null ? "@GuardTimeWait" : config) + "]";
  }

  /**
   * Builds a {@link TimeWaitGuard} for {@code @RegisterExtension}. Give the destination with one
   * of the {@code port} or {@code destination} methods; the rest have defaults.
   *
   * <pre>{@code
   * @RegisterExtension
   * static TimeWaitGuard guard = TimeWaitGuard.builder().port(8089).allowed(2).build();
   * }</pre>
   *
   * <p>Not thread-safe; the guard it builds is immutable.
   */
  public static final class Builder {
    private DestinationSpec destination;
    private int allowed = DEFAULT_ALLOWED;
    private GuardScope scope = DEFAULT_SCOPE;
    private Duration settle = DEFAULT_SETTLE;
    private TcpTable table = TcpTable.system();

    private Builder() {}

    /**
     * Watch the client side of every connection to {@code port} (1 to 65535).
     *
     * @param port the port, 1 to 65535
     * @return this builder
     */
    public Builder port(int port) {
      Preconditions.checkInRange(port, 1, 65535, "port");
      this.destination = DestinationSpec.of(port, "");
      return this;
    }

    /**
     * Watch the port {@code port} yields when each check starts, e.g. {@code () -> wm.getPort()}
     * for a WireMock server started later. It must be thread-safe.
     *
     * @param port the port, 1 to 65535
     * @return this builder
     */
    public Builder port(IntSupplier port) {
      Preconditions.checkNotNull(port, "port");
      this.destination = DestinationSpec.supplier(port::getAsInt, "");
      return this;
    }

    /**
     * Watch the client side of connections to {@code destination}, which must be resolved.
     *
     * @param destination the server's ip:port
     * @return this builder
     */
    public Builder destination(InetSocketAddress destination) {
      Preconditions.checkNotNull(destination, "destination");
      if (destination.isUnresolved()) {
        throw new IllegalArgumentException("destination must be resolved, but was " + destination);
      }
      this.destination = DestinationSpec.of(destination.getPort(), destination.getAddress().getHostAddress());
      return this;
    }

    /**
     * Watch the destination {@code destination} yields when each check starts: an {@link
     * InetSocketAddress}, a port, or a {@code "host:port"} string. It must be thread-safe.
     *
     * @param destination the server's ip:port
     * @return this builder
     */
    public Builder destination(Supplier<?> destination) {
      Preconditions.checkNotNull(destination, "destination");
      this.destination = DestinationSpec.supplier(destination, "");
      return this;
    }

    /**
     * New client TIME_WAIT sockets that pass, at least 0; default {@value #DEFAULT_ALLOWED}.
     *
     * @param allowed how many new client TIME_WAIT sockets pass, at least 0
     * @return this builder
     */
    public Builder allowed(int allowed) {
      Preconditions.checkNonNegative(allowed, "allowed");
      this.allowed = allowed;
      return this;
    }

    /**
     * Per test or per class; default {@link #DEFAULT_SCOPE}. {@link GuardScope#PER_CLASS} needs
     * the guard in a static field.
     *
     * @param scope per test or per class
     * @return this builder
     */
    public Builder scope(GuardScope scope) {
      this.scope = Preconditions.checkNotNull(scope, "scope");
      return this;
    }

    /**
     * The longest wait after the test for closing sockets to settle, 0 to {@link #MAX_SETTLE};
     * default {@link #DEFAULT_SETTLE}.
     *
     * @param settle the longest wait for closing sockets to settle
     * @return this builder
     */
    public Builder settle(Duration settle) {
      this.settle = Preconditions.checkNonNegative(settle, MAX_SETTLE, "settle");
      return this;
    }

    /** The table to read: tests give one that cannot be read to see the check skipped. */
    Builder table(TcpTable table) {
      this.table = Preconditions.checkNotNull(table, "table");
      return this;
    }

    /**
     * The guard.
     *
     * @return the new {@code TimeWaitGuard}
     * @throws IllegalStateException if no destination was given
     */
    public TimeWaitGuard build() {
      if (destination == null) {
        throw new IllegalStateException("destination cannot be null: call port(...) or destination(...)");
      }
      return new TimeWaitGuard(new GuardConfig(destination, allowed, scope, settle), table);
    }
  }
}
