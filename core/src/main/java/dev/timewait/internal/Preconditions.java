package dev.timewait.internal;

import java.time.Duration;

/**
 * The one preconditions helper of timewait. Messages name the field and the value:
 * a null gives {@code NullPointerException("x cannot be null")}, a bad value gives
 * {@code IllegalArgumentException("x must be > 0, but was -3")}.
 *
 * <p>Internal to the timewait modules: every argument check of core, the adapters, the
 * diagnostics, the testing kit and the junit5 extension goes through it (the examples, which users
 * copy, use the JDK's own). Not part of the public API. Stateless and thread-safe.
 */
public final class Preconditions {
  private Preconditions() {}

  /** Returns {@code value}, or throws NPE "{@code name} cannot be null". */
  public static <T> T checkNotNull(T value, String name) {
    if (value == null) {
      throw new NullPointerException(name + " cannot be null");
    }
    return value;
  }

  /** Returns {@code value} if it is at least 1. */
  public static int checkPositive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is at least 1. */
  public static long checkPositive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is at least 0. */
  public static long checkNonNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is at most {@code max}. */
  public static int checkAtMost(int value, int max, String name) {
    if (value > max) {
      throw new IllegalArgumentException(name + " must be <= " + max + ", but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it lies in {@code [min, max]}. */
  public static int checkInRange(int value, int min, int max, String name) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it lies in {@code [min, max]}. */
  public static long checkInRange(long value, long min, long max, String name) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it lies in {@code [min, max]}. */
  public static double checkInRange(double value, double min, double max, String name) {
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is non-null, strictly positive and at most {@code max}. */
  public static Duration checkPositive(Duration value, Duration max, String name) {
    checkNotNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be > 0, but was " + value);
    }
    if (value.compareTo(max) > 0) {
      throw new IllegalArgumentException(name + " must be <= " + max + ", but was " + value);
    }
    return value;
  }

  /** Returns {@code value} if it is non-null, 0 or more, and at most {@code max}. */
  public static Duration checkNonNegative(Duration value, Duration max, String name) {
    checkNotNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must be >= 0, but was " + value);
    }
    if (value.compareTo(max) > 0) {
      throw new IllegalArgumentException(name + " must be <= " + max + ", but was " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} if it is non-null and between {@code min} and {@code max}, both
   * included; the messages say which bound it missed: "period must be >= PT0.1S, but was PT0.01S".
   */
  public static Duration checkBetween(Duration value, Duration min, Duration max, String name) {
    checkNotNull(value, name);
    if (value.compareTo(min) < 0) {
      throw new IllegalArgumentException(name + " must be >= " + min + ", but was " + value);
    }
    if (value.compareTo(max) > 0) {
      throw new IllegalArgumentException(name + " must be <= " + max + ", but was " + value);
    }
    return value;
  }

  /** Throws IAE "{@code message}" unless {@code condition} holds. */
  public static void checkArgument(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
