package dev.timewait.examples;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * A minimal writer of one JSON object on one line, enough for the CLI's {@code --json} output:
 * string, whole-number, decimal, boolean and null values, nested objects ({@link #field(String,
 * Json)}) and arrays ({@link #array(String, List)}), with strings escaped as RFC 8259 requires.
 *
 * <pre>{@code
 * String line = new Json().field("client", "okhttp").field("errors", 0L).field("p99Ms", 1.25)
 *     .toString(); // {"client":"okhttp","errors":0,"p99Ms":1.25}
 * String nested = new Json().field("budget", new Json().field("headroom", 28232))
 *     .array("reasons", List.of("a", "b")).toString(); // {"budget":{"headroom":28232},"reasons":["a","b"]}
 * }</pre>
 *
 * <p>Not thread-safe: one writer per object.
 */
public final class Json {
  private final StringBuilder out = new StringBuilder("{");
  private boolean first = true;

  /** A string field; {@code null} writes JSON null. */
  public Json field(String name, String value) {
    name(name);
    if (value == null) {
      out.append("null");
    } else {
      quote(value, out);
    }
    return this;
  }

  /** A whole-number field; {@code null} writes JSON null. */
  public Json field(String name, Long value) {
    name(name);
    out.append(value == null ? "null" : value.toString());
    return this;
  }

  /** A whole-number field; {@code null} writes JSON null. */
  public Json field(String name, Integer value) {
    return field(name, value == null ? null : Long.valueOf(value));
  }

  /**
   * A decimal field, rounded to three decimals; {@code null}, NaN and infinities (which JSON
   * cannot hold) write JSON null.
   */
  public Json field(String name, Double value) {
    name(name);
    decimal(value, true);
    return this;
  }

  /**
   * A decimal field written as given (a setting echoed, whose rounding would change it: a rate
   * of 0.0004 read 0); {@code null}, NaN and infinities write JSON null.
   */
  public Json exactField(String name, Double value) {
    name(name);
    decimal(value, false);
    return this;
  }

  /** A boolean field. */
  public Json field(String name, boolean value) {
    name(name);
    out.append(value);
    return this;
  }

  /**
   * A nested object field, written as {@code value} is now (later changes to {@code value} are
   * not seen); {@code null} writes JSON null.
   */
  public Json field(String name, Json value) {
    name(name);
    out.append(value == null ? "null" : value.toString());
    return this;
  }

  /**
   * An array field. Each element is a {@link String}, {@link Long}, {@link Integer}, {@link
   * Double} (written as {@link #field(String, Double)} writes it), {@link Boolean}, {@link Json}
   * object or {@code null}; a {@code null} list writes JSON null.
   *
   * @throws IllegalArgumentException naming the type, for an element of any other type
   */
  public Json array(String name, List<?> values) {
    name(name);
    if (values == null) {
      out.append("null");
      return this;
    }
    out.append('[');
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      value(values.get(i));
    }
    out.append(']');
    return this;
  }

  private void value(Object v) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      quote(s, out);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Boolean || v instanceof Json) {
      out.append(v);
    } else if (v instanceof Double d) {
      decimal(d, true);
    } else {
      throw new IllegalArgumentException("array elements must be String, Long, Integer, Double, Boolean, Json"
          + " or null, but one was a " + v.getClass().getName());
    }
  }

  /** {@code value} as a JSON number, rounded to three decimals if asked; JSON null where none. */
  private void decimal(Double value, boolean rounded) {
    if (value == null || value.isNaN() || value.isInfinite()) {
      out.append("null");
    } else {
      BigDecimal decimal = BigDecimal.valueOf(value);
      if (rounded) {
        decimal = decimal.setScale(3, RoundingMode.HALF_UP);
      }
      out.append(decimal.stripTrailingZeros().toPlainString());
    }
  }

  private void name(String name) {
    if (name == null) {
      throw new NullPointerException("name cannot be null");
    }
    if (!first) {
      out.append(',');
    }
    first = false;
    quote(name, out);
    out.append(':');
  }

  /** The object, on one line. */
  @Override
  public String toString() {
    return out + "}";
  }

  /** Appends {@code s} as a JSON string literal: quotes, backslashes and control characters escaped. */
  static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          // Control characters must be escaped; U+2028/U+2029 too, for JavaScript consumers.
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
