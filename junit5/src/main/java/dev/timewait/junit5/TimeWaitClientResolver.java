package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves parameters annotated with {@link TimeWaitClient} to new clients configured with the
 * chosen {@link CloseStrategy}, made by the {@link ClientProvider} (found with {@link
 * ServiceLoader}) for the parameter's type. Each client is closed after its test, or after its
 * class for a {@code @BeforeAll} parameter or a constructor parameter under {@code
 * @TestInstance(PER_CLASS)}; under {@link TimeWaitGuard} before the guard counts, so that what the
 * close leaves is counted. A constructor parameter under the default per-method lifecycle is
 * refused: JUnit resolves it in the class's context, so each test's client would stay open until
 * the class ends, and what its close leaves would be counted by no per-test guard.
 *
 * <pre>{@code
 * @GuardTimeWait(portSupplier = "port")
 * class ClientTest {
 *   @Test
 *   void fetches(@TimeWaitClient(strategy = Kind.RESET) CloseableHttpClient client) { ... }
 * }
 * }</pre>
 *
 * <p>{@link TimeWaitClient} registers this extension; registering it by hand is not needed. A
 * parameter whose type no available provider makes fails with a message that lists the
 * providers found.
 *
 * <p>Stateless and thread-safe; the clients of each test live in its extension context.
 */
public final class TimeWaitClientResolver implements ParameterResolver {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitClientResolver.class);
  private static final Namespace NAMESPACE = Namespace.create(TimeWaitClientResolver.class);
  /** Bounds the walk over a ServiceLoader whose iterator keeps failing. */
  private static final int MAX_PROVIDERS = 256;

  /** For JUnit. */
  public TimeWaitClientResolver() {}

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(TimeWaitClient.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    TimeWaitClient annotation = parameter.findAnnotation(TimeWaitClient.class).orElseThrow();
    if (parameter.getDeclaringExecutable() instanceof Constructor
        && context.getTestMethod().isEmpty()
        && context.getTestInstanceLifecycle().orElse(Lifecycle.PER_METHOD) == Lifecycle.PER_METHOD) {
      throw new ParameterResolutionException("@TimeWaitClient on a constructor parameter of "
          + parameter.getDeclaringExecutable().getDeclaringClass().getName() + ": under the per-method"
          + " lifecycle JUnit resolves it in the class's context, so each test's client would stay open"
          + " until the class ends, and what its close leaves would be counted by no per-test guard."
          + " Take the client as a parameter of the test or of a @BeforeEach method, or annotate the"
          + " class @TestInstance(PER_CLASS)");
    }
    Class<?> type = parameter.getParameter().getType();
    CloseStrategy strategy = strategy(annotation, context);
    ClientProvider provider = provider(type);
    CloseAccounting accounting = new CloseAccounting();
    Object client;
    try {
      client = provider.newClient(strategy, accounting);
    } catch (ParameterResolutionException e) {
      throw e; // already says what is wrong, e.g. which adapter artifact is missing
    } catch (Exception | LinkageError e) {
      throw new ParameterResolutionException(
          provider.getClass().getName() + " failed to make a " + type.getName() + ": " + e, e);
    }
    if (!type.isInstance(client)) {
      ParameterResolutionException wrongType = new ParameterResolutionException(
          provider.getClass().getName() + " made "
          + (client == null ? "null" : "a " + client.getClass().getName()) + ", not a " + type.getName());
      if (client != null) {
        try {
          provider.close(client); // made, maybe started (an async client's reactor): not leaked
        } catch (Exception | LinkageError e) {
          wrongType.addSuppressed(e);
        }
      }
      throw wrongType;
    }
    clients(context).add(new Clients.Entry(provider, client, strategy, accounting));
    log.debug("resolved {} with {} ({})", type.getName(), strategy, provider.getClass().getName());
    return client;
  }

  /**
   * Closes the clients resolved in {@code context} itself (not its parents'), and publishes their
   * close statistics. The guard calls this before it counts.
   */
  static void closeClients(ExtensionContext context) throws Exception {
    Clients clients = context.getStore(NAMESPACE).remove(key(context), Clients.class);
    if (clients != null) {
      clients.close(context);
    }
  }

  private static Clients clients(ExtensionContext context) {
    return context.getStore(NAMESPACE).getOrComputeIfAbsent(key(context), k -> new Clients(), Clients.class);
  }

  private static String key(ExtensionContext context) {
    return "clients:" + context.getUniqueId();
  }

  private static CloseStrategy strategy(TimeWaitClient annotation, ExtensionContext context) {
    String name = annotation.strategyMethod();
    if (name.isEmpty()) {
      return annotation.strategy().defaults();
    }
    Object value;
    try {
      value = Members.read(context, name, "strategyMethod");
    } catch (RuntimeException e) {
      throw new ParameterResolutionException(e.getMessage(), e);
    }
    if (!(value instanceof CloseStrategy)) {
      throw new ParameterResolutionException("strategyMethod '" + name + "' must yield a CloseStrategy, but yielded "
          + (value == null ? "null" : "a " + value.getClass().getName()));
    }
    return (CloseStrategy) value;
  }

  /** The provider for {@code type}: of its very type, else the only one of a subtype. */
  private static ClientProvider provider(Class<?> type) {
    ClassLoader loader = type.getClassLoader() != null
        ? type.getClassLoader()
        : Thread.currentThread().getContextClassLoader();
    List<ClientProvider> exact = new ArrayList<>();
    List<ClientProvider> subtype = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    Iterator<ClientProvider> it = ServiceLoader.load(ClientProvider.class, loader).iterator();
    for (int i = 0; i < MAX_PROVIDERS; i++) {
      ClientProvider p;
      try {
        if (!it.hasNext()) {
          break;
        }
        p = it.next();
      } catch (ServiceConfigurationError | LinkageError e) {
        log.debug("skipping a ClientProvider that cannot be loaded: {}", e.toString());
        seen.add("(unloadable: " + e.getMessage() + ")");
        continue;
      }
      String name;
      Class<?> clientClass;
      try {
        name = p.clientClassName();
        clientClass = Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
        seen.add(p.getClass().getName() + " (client class absent: " + e.getMessage() + ")");
        continue;
      }
      seen.add(p.getClass().getName() + " -> " + name);
      if (clientClass == type) {
        exact.add(p);
      } else if (type.isAssignableFrom(clientClass)) {
        subtype.add(p);
      }
    }
    List<ClientProvider> found = exact.isEmpty() ? subtype : exact;
    if (found.size() == 1) {
      return found.get(0);
    }
    if (found.isEmpty()) {
      throw new ParameterResolutionException("@TimeWaitClient: no ClientProvider makes a " + type.getName()
          + "; providers found: " + seen + ". For HttpClient 5, OkHttp or Reactor Netty put timewait-httpclient5, "
          + "timewait-okhttp or timewait-reactor-netty on the test classpath; for another client implement "
          + ClientProvider.class.getName() + " and list it in META-INF/services");
    }
    List<String> names = new ArrayList<>();
    for (ClientProvider p : found) {
      names.add(p.getClass().getName() + " -> " + p.clientClassName());
    }
    throw new ParameterResolutionException("@TimeWaitClient: several ClientProviders make a "
        + type.getName() + ": " + names + "; declare the parameter with the exact client type");
  }

  /**
   * The clients resolved in one extension context; closed by the guard or, at the latest, when
   * JUnit closes the context's store. A {@code CloseableResource} too: JUnit closes a store's
   * {@code AutoCloseable} values only since 5.13, and 5.9-5.12 (Spring Boot 3.x's) closed only
   * those, so clients without a guard of the same test stayed open (JUnit 5.13+ closes a value
   * that is both once). Thread-safe.
   */
  @SuppressWarnings({"try", "deprecation"}) // close() throws what the providers' close throws; JUnit 5.13 deprecates CloseableResource
  static final class Clients implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    private final List<Entry> entries = new ArrayList<>();
    private boolean closed;

    synchronized void add(Entry entry) {
      entries.add(entry);
    }

    @Override
    public void close() throws Exception {
      close(null);
    }

    /** Closes the clients, newest first; publishes their statistics if {@code context} is given. */
    void close(ExtensionContext context) throws Exception {
      List<Entry> toClose;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        toClose = new ArrayList<>(entries);
      }
      Throwable failure = null;
      for (int i = toClose.size() - 1; i >= 0; i--) {
        Entry e = toClose.get(i);
        try {
          e.provider.close(e.client);
        } catch (Exception | Error ex) {
          // Every client is closed whatever one provider throws (an AssertionError too); the
          // first failure is thrown once all are, the others suppressed in it.
          if (failure == null) {
            failure = ex;
          } else {
            failure.addSuppressed(ex);
          }
        }
        String stats = e.client.getClass().getSimpleName() + " (" + e.strategy.name() + "): "
            + e.accounting.snapshot();
        log.debug("closed {}", stats);
        if (context != null) {
          context.publishReportEntry("timewait.client", stats);
        }
      }
      if (failure instanceof Error) {
        throw (Error) failure;
      }
      if (failure != null) {
        throw (Exception) failure;
      }
    }

    /** One client and what it was made with. */
    static final class Entry {
      final ClientProvider provider;
      final Object client;
      final CloseStrategy strategy;
      final CloseAccounting accounting;

      Entry(ClientProvider provider, Object client, CloseStrategy strategy, CloseAccounting accounting) {
        this.provider = provider;
        this.client = client;
        this.strategy = strategy;
        this.accounting = accounting;
      }
    }
  }
}
