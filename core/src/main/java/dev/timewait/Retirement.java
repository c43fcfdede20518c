package dev.timewait;

/**
 * How a pooled keep-alive connection is closed when it retires: by its request cap, by idle
 * eviction, by its lifetime, or when the pool shuts down.
 *
 * <p>Thread-safe (an enum).
 */
public enum Retirement {
  /**
   * The connection's last request carries {@code Connection: close}, as under {@link
   * #SERVER_CLOSE}; once the exchange is complete the client closes with {@code SO_LINGER(0)}
   * instead of waiting for the server's FIN: an RST, and neither side keeps TIME_WAIT. The RST
   * reaches a connection the server is already done with. A connection retired with no request
   * to carry the header (idle eviction, shutdown) is reset while idle.
   */
  RESET,
  /**
   * The connection's last request carries {@code Connection: close}, and the client waits, bounded
   * by the FIN wait, for the server's FIN before it closes: TIME_WAIT lands on the server. A
   * connection retired with no request to carry the header (idle eviction, shutdown) closes
   * plainly if the server already closed it, and is reset otherwise: it never leaves
   * TIME_WAIT on the client.
   */
  SERVER_CLOSE
}
