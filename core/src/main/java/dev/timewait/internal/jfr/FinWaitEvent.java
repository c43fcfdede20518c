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
 * JFR's view of one server close's wait for the peer's FIN, committed when the close is recorded;
 * off unless a recording enables {@code dev.timewait.FinWait}. Not thread-safe (one per commit).
 */
@Name("dev.timewait.FinWait")
@Category({"timewait", "Network"})
@Label("FIN Wait")
@Description("A server close waited for the peer's FIN; the outcome says whether it came")
@Enabled(false)
@StackTrace(false)
public final class FinWaitEvent extends Event {
  /** The peer, host:port. */
  @Label("Destination")
  public String destination;

  /** CloseEvent.Mode: AFTER_PEER_FIN when the FIN came, RESET when the wait ended otherwise. */
  @Label("Mode")
  public String mode;

  /** CloseEvent.Reason. */
  @Label("Reason")
  public String reason;

  /** How long the wait took. */
  @Label("Waited")
  @Timespan(Timespan.NANOSECONDS)
  public long waited;
}
