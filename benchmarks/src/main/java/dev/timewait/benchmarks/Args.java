package dev.timewait.benchmarks;

/**
 * Argument checks of the diagnostics ({@link Timeline}, {@link CancelLoss}, {@link Solo}, {@link
 * CpuProfile}, {@link AllocationSites}, {@link Syscalls}): a clear error naming the argument or
 * flag and its value. ({@code Benchmarks} prints its own and exits, naming the flag.)
 */
final class Args {
  private Args() {}

  /** {@code value} as a whole number of at least {@code min}, or an error naming {@code name}. */
  static int atLeast(String name, String value, int min) {
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, but was " + value);
    }
    if (n < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + ", but was " + n);
    }
    return n;
  }
}
