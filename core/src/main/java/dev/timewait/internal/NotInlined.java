package dev.timewait.internal;

/**
 * Keeps a public numeric or boolean constant out of its callers' class files. A {@code static
 * final} field of primitive type initialised with a constant expression is a constant variable
 * (JLS 4.12.4): javac copies its value into every class that reads it (JLS 13.1), so a default
 * changed in a later release (the request cap went from 500 to 10,000) would not reach code
 * compiled against the earlier one. A field initialised through a method call is read at run time
 * instead; the JIT still folds it, as any {@code static final}. Stateless.
 */
public final class NotInlined {
  private NotInlined() {}

  /**
   * Returns {@code value}.
   *
   * @param value the constant's value
   * @return {@code value}
   */
  public static int of(int value) {
    return value;
  }

  /**
   * Returns {@code value}.
   *
   * @param value the constant's value
   * @return {@code value}
   */
  public static boolean of(boolean value) {
    return value;
  }

  /**
   * Returns {@code value}.
   *
   * @param value the constant's value
   * @return {@code value}
   */
  public static double of(double value) {
    return value;
  }
}
