package dev.timewait.httpclient5;

import org.apache.hc.core5.http.nio.command.StaleCheckCommand;
import org.apache.hc.core5.reactor.Command;

/**
 * HttpCore's {@code StaleCheckCommand}, which the async pool sends to an HTTP/1.1 connection idle
 * past {@code validateAfterInactivity} before it leases it (HttpCore 5.4 and later; HttpClient 5.6
 * uses it). Named by class name first, so that the class is resolved only where it exists: with an
 * older HttpCore the command never comes, and nothing here is loaded. Stateless.
 */
final class StaleChecks {
  private static final String NAME = "org.apache.hc.core5.http.nio.command.StaleCheckCommand";

  private StaleChecks() {}

  static boolean is(Command command) {
    return command.getClass().getName().equals(NAME);
  }

  /** Answers the check "not fit for reuse" without running it. */
  static void answerStale(Command command) {
    ((StaleCheckCommand) command).getCallback().accept(Boolean.FALSE);
  }
}
