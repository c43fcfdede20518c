package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.internal.Preconditions;

/**
 * What the built-in providers of an adapter's client share: the client type they make, the
 * argument checks, and the check that timewait's adapter module (an optional dependency of this
 * one) is on the test class path. A subclass names its client and adapter, and touches the client
 * library only in {@link #create} and {@link #shutdown}, so that it loads without it. Stateless
 * and thread-safe.
 */
abstract class AdapterClientProvider implements ClientProvider {
  private final String clientClass;
  private final String adapterClass;
  private final String adapterArtifact;
  private final String clientName;

  /**
   * @param clientClass the client type made, by name
   * @param adapterClass the adapter class {@link #create} calls, by name
   * @param adapterArtifact the artifactId to add when {@code adapterClass} is missing
   * @param clientName the client type's simple name, for the message
   */
  AdapterClientProvider(String clientClass, String adapterClass, String adapterArtifact, String clientName) {
    this.clientClass = clientClass;
    this.adapterClass = adapterClass;
    this.adapterArtifact = adapterArtifact;
    this.clientName = clientName;
  }

  @Override
  public final String clientClassName() {
    return clientClass;
  }

  @Override
  public final Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    Adapters.require(getClass(), adapterClass, adapterArtifact, clientName);
    return create(strategy, accounting);
  }

  @Override
  public final void close(Object client) {
    Preconditions.checkNotNull(client, "client");
    shutdown(client);
  }

  /** The adapter's client for {@code strategy}, counting into {@code accounting}. */
  abstract Object create(CloseStrategy strategy, CloseAccounting accounting);

  /** Closes {@code client}, a client {@link #create} made, the way its adapter says. */
  abstract void shutdown(Object client);
}
