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
   * Each test on its own: a snapshot right before the test method runs (after its
   * {@code @BeforeEach} methods, so that they may start the server) and one after its
   * {@code @AfterEach} methods. A test that leaves too many fails. The default.
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
