package dev.timewait.junit5;

import org.junit.jupiter.api.extension.ParameterResolutionException;

/**
 * The built-in providers' check that timewait's adapter for their client is on the test class
 * path. The resolver picks a provider when the client library is there (OkHttp, HttpClient 5),
 * but the provider also needs timewait's adapter module, an optional dependency of this one;
 * without this check the test would fail with a bare {@code NoClassDefFoundError} naming an
 * adapter class, not the Maven artifact to add. Stateless.
 */
final class Adapters {
  /** timewait's Maven groupId, as users declare the adapters. */
  static final String GROUP_ID = "dev.timewait";

  private Adapters() {}

  /**
   * Throws, naming the missing artifact, unless {@code adapterClass} can be loaded by {@code
   * provider}'s class loader: the loader that would link the provider's calls to the adapter.
   */
  static void require(Class<?> provider, String adapterClass, String artifactId, String client) {
    try {
      Class.forName(adapterClass, false, provider.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new ParameterResolutionException(missing(client, artifactId, adapterClass), e);
    }
  }

  /** The message for a {@code client} parameter whose adapter, {@code artifactId}, is absent. */
  static String missing(String client, String artifactId, String adapterClass) {
    return "@TimeWaitClient " + client + " needs timewait's adapter for it, the dependency "
        + GROUP_ID + ":" + artifactId + ", which is not on the test class path (" + adapterClass
        + " cannot be loaded): add " + GROUP_ID + ":" + artifactId
        + " with test scope, at the version of timewait-junit5";
  }
}
