package dev.timewait.junit5;

/**
 * Over which span {@link TimeWaitGuard} counts new client TIME_WAIT sockets against its allowance.
 *
 * <pre>{@code
 * @GuardTimeWait(port = 8089, scope = GuardScope.PER_CLASS, allowed = 10)
 * class CatalogClientTest { ... }
 * }</pre>
 *
 * <p>Thread-safe (an enum).
 */
public enum GuardScope {
  /**
   * Each test on its own: a snapshot before its {@code @BeforeEach} methods (or, if the
   * destination is only known once they have run, e.g. because they start the server, right
   * before the test method) and one after its {@code @AfterEach} methods. A test that leaves too
   * many fails. The default.
   */
  PER_TEST,
  /**
   * The whole class: a snapshot before its first test (in {@code beforeAll} where the destination
   * is known then, else before the first test method) and one after its {@code @AfterAll}
   * methods. The sum over all its tests counts; too many fail the class, not a single test.
   * Only for a class-level {@link GuardTimeWait} or a guard registered in a static field.
   */
  PER_CLASS
}
