package dev.timewait.junit5;

import dev.timewait.CloseStrategy;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Asks for a parameter to be a new client configured with a timewait {@link CloseStrategy}:
 * registers {@link TimeWaitClientResolver}, which makes the client through the {@link
 * ClientProvider} for the parameter's type and closes it after the test.
 *
 * <pre>{@code
 * @Test
 * void fetchesTheCatalog(@TimeWaitClient(strategy = Kind.RESET) CloseableHttpClient client) {...}
 *
 * @Test
 * void fetchesPrices(@TimeWaitClient(strategyMethod = "pooled") OkHttpClient client) {...}
 * static CloseStrategy pooled() {
 *   return PooledKeepAlive.builder().maxTotal(4).build();
 * }
 *
 * @Test  // built in: core's socket factory, for any client that takes a SocketFactory
 * void rawSockets(@TimeWaitClient(strategy = Kind.SERVER_CLOSE) TimeWaitSocketFactory sockets) {...}
 * }</pre>
 *
 * <p>Clients for HttpClient 5, OkHttp and Reactor Netty come from providers for the timewait
 * adapters; a
 * {@link dev.timewait.TimeWaitSocketFactory} parameter is served by {@link
 * SocketFactoryClientProvider}, which is built in.
 *
 * <p>Annotations are immutable and thread-safe.
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(TimeWaitClientResolver.class)
public @interface TimeWaitClient {

  /**
   * {@return the strategy, with its defaults ({@link CloseStrategy.Kind#defaults()}); default
   * {@link CloseStrategy.Kind#SERVER_CLOSE}}
   */
  CloseStrategy.Kind strategy() default CloseStrategy.Kind.SERVER_CLOSE;

  /**
   * The name of a field or method of the test class that yields the {@link CloseStrategy} to
   * use instead of {@link #strategy()}: for a tuned strategy. Empty (the default) means use
   * {@link #strategy()}.
   *
   * @return the name of a field or method of the test class that yields the {@link CloseStrategy} to use instead of {@link #strategy()}
   */
  String strategyMethod() default "";
}
