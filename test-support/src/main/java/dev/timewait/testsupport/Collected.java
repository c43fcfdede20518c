package dev.timewait.testsupport;

import java.lang.ref.WeakReference;

/** For tests that show an object is no longer held: asks for collection, bounded. */
public final class Collected {
  private Collected() {}

  /**
   * Asks the collector, up to 20 times 20 ms apart, until {@code ref} is cleared.
   *
   * @param ref a weak reference to the object that should no longer be held
   * @return whether it was cleared
   * @throws InterruptedException if interrupted while waiting
   */
  public static boolean await(WeakReference<?> ref) throws InterruptedException {
    for (int i = 0; i < 20 && ref.get() != null; i++) {
      System.gc();
      Thread.sleep(20);
    }
    return ref.get() == null;
  }
}
