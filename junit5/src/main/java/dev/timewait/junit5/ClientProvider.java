package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;

/**
 * The service interface through which {@link TimeWaitClientResolver} makes the clients it hands
 * to {@link TimeWaitClient} parameters: one implementation per client type, found with {@link
 * java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/dev.timewait.junit5.ClientProvider}, or {@code provides} it in a {@code
 * module-info}).
 *
 * <p>A provider is looked at only if the class it names in {@link #clientClassName()} can be
 * loaded, so a provider for a client library that is not on the test classpath is skipped
 * instead of failing. The implementation must therefore touch the client's classes only inside
 * {@link #newClient} and {@link #close}: no client types in fields, constructors or static
 * initializers.
 *
 * <pre>{@code
 * public final class MyClientProvider implements ClientProvider {
 *   public MyClientProvider() {}                      // public, no arguments
 *   @Override public String clientClassName() { return "com.example.MyClient"; }
 *   @Override public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
 *     return MyClient.builder()
 *         .socketFactory(TimeWaitSocketFactory.create(strategy, accounting))
 *         .build();
 *   }
 *   @Override public void close(Object client) { ((MyClient) client).shutdown(); }
 * }
 * }</pre>
 *
 * <p>Implementations must be thread-safe and stateless: one instance may make and close clients
 * for tests running in parallel, and a new instance may be made for each parameter.
 */
public interface ClientProvider {

  /**
   * The fully qualified name of the type {@link #newClient} returns, e.g. {@code
   * "okhttp3.OkHttpClient"}. A parameter gets a client from the provider whose type is the
   * parameter's type, or else from the only one whose type is assignable to it.
   *
   * @return the fully qualified name of the type {@link #newClient} returns
   */
  String clientClassName();

  /**
   * A new client, ready to use, whose connections close as {@code strategy} says and are
   * counted in {@code accounting}. It is closed with {@link #close} after the test (or after the
   * class, for a class-level parameter).
   *
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return a new client, ready to use, whose connections close as {@code strategy} says and are counted in {@code accounting}
   * @throws Exception if the client cannot be made; the parameter's resolution fails with it
   */
  Object newClient(CloseStrategy strategy, CloseAccounting accounting) throws Exception;

  /**
   * Closes a client this provider made, releasing its connections the way its strategy says.
   * Called once per client.
   *
   * @param client the client to act on
   * @throws Exception if closing fails; the test fails with it
   */
  void close(Object client) throws Exception;
}
