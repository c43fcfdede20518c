package dev.timewait.internal;

/**
 * What timewait does with a throwable caught from a user's callback (a close listener, a monitor
 * listener, a sample) that it logs and survives. Caught as {@code Throwable}: a Kotlin callback,
 * or a Java one with Lombok's {@code @SneakyThrows}, throws checked exceptions Java does not
 * declare. Stateless.
 */
public final class CallbackFailures {
  private CallbackFailures() {}

  /**
   * Rethrows a {@link VirtualMachineError}, which no callback's failure may hide; for an {@link
   * InterruptedException} sets the thread's interrupt flag again, which the JDK cleared as it
   * threw; returns otherwise, for the caller to log the failure and go on.
   *
   * @param failure what the callback threw
   */
  public static void rethrowFatal(Throwable failure) {
    if (failure instanceof VirtualMachineError) {
      throw (VirtualMachineError) failure;
    }
    if (failure instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
  }
}
