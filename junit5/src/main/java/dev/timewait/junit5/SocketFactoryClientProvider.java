package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.internal.Preconditions;

/**
 * The built-in {@link ClientProvider} for core's {@link TimeWaitSocketFactory}: a {@code
 * TimeWaitSocketFactory} parameter annotated with {@link TimeWaitClient} gets {@link
 * TimeWaitSocketFactory#create(CloseStrategy, CloseAccounting)}, for raw sockets or any client
 * that takes a {@link javax.net.SocketFactory}.
 *
 * <pre>{@code
 * @Test
 * void talksRaw(@TimeWaitClient(strategy = Kind.RESET) TimeWaitSocketFactory sockets) throws IOException {
 *   try (Socket s = sockets.createSocket()) {
 *     s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
 *     s.setSoTimeout(10_000);
 *     ...
 *   } // closes with an RST
 * }
 * }</pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class SocketFactoryClientProvider implements ClientProvider {

  /** For {@link java.util.ServiceLoader}. */
  public SocketFactoryClientProvider() {}

  @Override
  public String clientClassName() {
    return TimeWaitSocketFactory.class.getName();
  }

  @Override
  public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    return TimeWaitSocketFactory.create(strategy, accounting);
  }

  /** Nothing to release: a factory holds no connections; the test closes its sockets. */
  @Override
  public void close(Object client) {
    Preconditions.checkNotNull(client, "client");
  }
}
