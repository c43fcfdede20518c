package dev.timewait.internal;

/**
 * The threads timewait starts for itself (timers, name lookups, the TIME_WAIT monitor's sampler)
 * that outlive the call that happens to start them: daemon threads that inherit nothing of that
 * thread, neither its inheritable thread-locals nor its context class loader, which they take from
 * this library instead. A thread that lives on after a web application's request must not keep
 * that application's class loader (on undeploy) or its request-scoped values. Stateless.
 */
public final class LibraryThreads {
  private LibraryThreads() {}

  /**
   * A new, unstarted daemon thread running {@code body}.
   *
   * @param name the thread's name
   * @param body what it runs
   * @return the thread, not started
   */
  public static Thread newDaemon(String name, Runnable body) {
    Thread t = new Thread(null, body, name, 0, false);
    t.setDaemon(true);
    t.setContextClassLoader(LibraryThreads.class.getClassLoader());
    return t;
  }
}
