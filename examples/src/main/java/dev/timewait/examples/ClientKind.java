package dev.timewait.examples;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The HTTP clients the load engine drives. Immutable and thread-safe (an enum). */
public enum ClientKind {
  /** Apache HttpClient 5, classic (blocking) API. */
  HC5("hc5"),
  /** Apache HttpClient 5, async API. */
  HC5_ASYNC("hc5-async"),
  /** OkHttp 5. */
  OKHTTP("okhttp"),
  /** Reactor Netty 1.3 (Spring WebClient's client), each call blocked on by its thread. */
  REACTOR_NETTY("reactor-netty");

  private final String label;

  ClientKind(String label) {
    this.label = label;
  }

  /** The name on the command line and in the output. */
  public String label() {
    return label;
  }

  /** The kind named {@code label}, or IAE listing the valid names. */
  public static ClientKind of(String label) {
    for (ClientKind k : values()) {
      if (k.label.equals(label)) {
        return k;
      }
    }
    throw new IllegalArgumentException("client must be one of " + labels() + ", but was " + label);
  }

  /** The valid names, comma-separated. */
  public static String labels() {
    return Arrays.stream(values()).map(ClientKind::label).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return label;
  }
}
