package dev.timewait.benchmarks;

import java.util.Arrays;

/**
 * Argument checks of the diagnostics ({@link Timeline}, {@link CancelLoss}, {@link Solo}, {@link
 * CpuProfile}, {@link AllocationSites}, {@link Syscalls}, {@link ResetParts}): a clear error naming
 * the argument or flag and its value. ({@code Benchmarks} prints its own and exits, naming the flag.)
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

  /**
   * A leading {@code --library NAME} of a diagnostic that takes {@code positional} arguments after
   * it ({@link Timeline}, {@link ResetParts}): the library named, or {@code byDefault} when the
   * arguments do not start with the flag and its value followed by exactly {@code positional} more;
   * and the arguments after the flag. A library it does not know is an error naming it.
   */
  static WithLibrary withLibrary(String[] args, int positional, BenchClient.Library byDefault) {
    if (args.length == positional + 2 && args[0].equals("--library")) {
      return new WithLibrary(AllocationSites.library(args[1]), Arrays.copyOfRange(args, 2, args.length));
    }
    return new WithLibrary(byDefault, args);
  }

  /** The library a diagnostic drives, and its arguments after {@code --library NAME}. */
  record WithLibrary(BenchClient.Library library, String[] rest) {}
}
