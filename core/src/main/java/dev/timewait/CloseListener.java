package dev.timewait;

/**
 * Told of every close a {@link CloseAccounting} records, after its counts are updated, on the
 * thread that closed the connection (a caller's, a pool's or an event loop's): keep it short and
 * never block. {@linkplain CloseAccounting#addListener Added} to an accounting; while none is,
 * recording a close builds no {@link CloseEvent} at all. A listener that throws is logged at WARN
 * the first time (at debug after that) and the close goes on. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface CloseListener {
  /**
   * One connection closed.
   *
   * @param event how and why, as far as the recording point knows
   */
  void closed(CloseEvent event);
}
