package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import reactor.netty.http.client.HttpClient;

/**
 * The {@link ClientProvider} for Reactor Netty: a {@code reactor.netty.http.client.HttpClient}
 * parameter annotated with {@link TimeWaitClient} gets a client made by {@link
 * TimeWaitReactorNetty#newClient(CloseStrategy, CloseAccounting)} (on its own connection
 * provider), shut down after the test with {@link TimeWaitReactorNetty#shutdown(HttpClient)}.
 * Wrap it for Spring with {@code new ReactorClientHttpConnector(client)}. Used when Reactor
 * Netty is on the test classpath (skipped otherwise); with Reactor Netty but without
 * timewait-reactor-netty the parameter fails with a message that names the dependency to add.
 *
 * <pre>{@code
 * @Test
 * void fetches(@TimeWaitClient(strategy = Kind.POOLED) HttpClient client) {
 *   client.get().uri(url).responseSingle((r, body) -> body.asString()).block(Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>It touches Reactor Netty's classes only when it makes or closes a client, so it
 * loads without them. Stateless and thread-safe.
 */
public final class ReactorNettyClientProvider extends AdapterClientProvider {
  /** The client type this provider makes. */
  static final String CLIENT_CLASS = "reactor.netty.http.client.HttpClient";

  /** The adapter class this provider calls, by name (an optional dependency of this module). */
  static final String ADAPTER_CLASS = "dev.timewait.reactornetty.TimeWaitReactorNetty";

  /** The artifactId to add when {@link #ADAPTER_CLASS} is missing. */
  static final String ADAPTER_ARTIFACT = "timewait-reactor-netty";

  /** For {@link java.util.ServiceLoader}. */
  public ReactorNettyClientProvider() {
    super(CLIENT_CLASS, ADAPTER_CLASS, ADAPTER_ARTIFACT, "HttpClient");
  }

  @Override
  Object create(CloseStrategy strategy, CloseAccounting accounting) {
    return TimeWaitReactorNetty.newClient(strategy, accounting);
  }

  /** {@link TimeWaitReactorNetty#shutdown(HttpClient)}: every connection closed, the pool disposed. */
  @Override
  void shutdown(Object client) {
    TimeWaitReactorNetty.shutdown((HttpClient) client);
  }
}
