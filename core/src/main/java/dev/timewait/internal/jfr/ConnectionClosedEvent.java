package dev.timewait.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR's view of one close, committed where {@code CloseAccounting} records it; off unless a
 * recording enables {@code dev.timewait.ConnectionClosed}. Not thread-safe (one per commit).
 */
@Name("dev.timewait.ConnectionClosed")
@Category({"timewait", "Network"})
@Label("Connection Closed")
@Description("A connection of a timewait client closed: how, why, after how many requests")
@Enabled(false)
@StackTrace(false)
public final class ConnectionClosedEvent extends Event {
  /** The peer, host:port. */
  @Label("Destination")
  public String destination;

  /** The strategy's id. */
  @Label("Strategy")
  public String strategy;

  /** CloseEvent.Mode. */
  @Label("Mode")
  public String mode;

  /** CloseEvent.Reason. */
  @Label("Reason")
  public String reason;

  /** -1 where not known. */
  @Label("Requests")
  public long requests;

  /** -1 where not known. */
  @Label("Lifetime")
  @Timespan(Timespan.NANOSECONDS)
  public long lifetime;

  /** 0 without a FIN wait. */
  @Label("FIN Wait")
  @Timespan(Timespan.NANOSECONDS)
  public long finWait;
}
