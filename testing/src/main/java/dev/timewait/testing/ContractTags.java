package dev.timewait.testing;

/**
 * The JUnit tags on the contracts' tests, for a build that selects by tag (Maven Surefire's
 * {@code groups}, Gradle's {@code includeTags}): {@code -Dgroups='!idle-waits | virtual-threads'}
 * leaves out the contract whose cases wait for peers' idle timeouts but keeps its cases on virtual
 * threads, as timewait's CI does on its newest JDK. Constants only.
 */
public final class ContractTags {
  private ContractTags() {}

  /**
   * On {@link StaleConnectionContract}: its cases wait, mostly asleep, for peers to close idle
   * connections (about a minute per client).
   */
  public static final String IDLE_WAITS = "idle-waits";

  /**
   * On the cases whose callers run on virtual threads (JDK 21+; skipped, saying why, before): the
   * ones a new JDK can change.
   */
  public static final String VIRTUAL_THREADS = "virtual-threads";
}
