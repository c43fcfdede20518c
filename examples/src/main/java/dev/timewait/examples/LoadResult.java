package dev.timewait.examples;

import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import java.util.Locale;

/**
 * What one load run measured. The close accounting fields are null where the client could not
 * count (naive HttpClient); the TIME_WAIT counts are null where the kernel's table cannot be read
 * (not Linux) or the target's host could not be resolved, and {@code serverTimeWait} also where
 * the target is not on this host.
 *
 * <p>Immutable and thread-safe.
 *
 * @param client the client's name
 * @param strategy the strategy's name
 * @param requests requests sent (successes and errors)
 * @param errors requests that failed: an exception, or a status outside 200-399
 * @param firstError the first failure, one line; null if none
 * @param durationMs from the first request's start to the last one's end
 * @param requestsPerSecond {@code requests} per second of {@code durationMs}
 * @param p50Ms the median latency of successful requests; null if none succeeded
 * @param p99Ms the 99th percentile latency of successful requests; null if none succeeded
 * @param stats the client's close accounting; null if it cannot count
 * @param clientTimeWait TIME_WAIT sockets towards the target after the run, from the kernel
 * @param serverTimeWait TIME_WAIT sockets on the target's port after the run, when it is local
 * @param unresolvedHost the target's host when it could not be resolved; null otherwise
 * @param clientTimeWaitBefore {@code clientTimeWait} counted before the first request: what an
 *     earlier run left (entries expire 60 s after their close, so for runs under a minute the
 *     difference is what this run added)
 * @param serverTimeWaitBefore {@code serverTimeWait} counted before the first request
 * @param settings what each request was and how the requests were paced; null when unknown
 * @param startWaitMs with a start signal: how long the built client waited for it; null without one
 * @param warmupErrors with a warm-up: how many of its requests failed; null without one
 * @param firstErrorMs when the first request failed: ms from the load's start to that request's end;
 *     null when none failed (or the first error was not a request's: the load's own bound, closing the client)
 * @param succeededBeforeFirstError requests that had succeeded when the first one failed (e.g. the ports a
 *     naive client used before {@code connect()} ran out of them); null when {@code firstErrorMs} is
 */
public record LoadResult(
    String client,
    String strategy,
    long requests,
    long errors,
    String firstError,
    long durationMs,
    double requestsPerSecond,
    Double p50Ms,
    Double p99Ms,
    CloseStats stats,
    Integer clientTimeWait,
    Integer serverTimeWait,
    String unresolvedHost,
    Integer clientTimeWaitBefore,
    Integer serverTimeWaitBefore,
    Settings settings,
    Long startWaitMs,
    Integer warmupErrors,
    Long firstErrorMs,
    Long succeededBeforeFirstError) {

  /** The result without {@link #settings()}: the 13 fields the record had before them. */
  public LoadResult(String client, String strategy, long requests, long errors, String firstError, long durationMs,
      double requestsPerSecond, Double p50Ms, Double p99Ms, CloseStats stats, Integer clientTimeWait,
      Integer serverTimeWait, String unresolvedHost) {
    this(client, strategy, requests, errors, firstError, durationMs, requestsPerSecond, p50Ms, p99Ms, stats,
        clientTimeWait, serverTimeWait, unresolvedHost, null, null, null, null, null, null, null);
  }

  /** The result without {@link #firstErrorMs()} and {@link #succeededBeforeFirstError()}: the 18 fields before them. */
  public LoadResult(String client, String strategy, long requests, long errors, String firstError, long durationMs,
      double requestsPerSecond, Double p50Ms, Double p99Ms, CloseStats stats, Integer clientTimeWait,
      Integer serverTimeWait, String unresolvedHost, Integer clientTimeWaitBefore, Integer serverTimeWaitBefore,
      Settings settings, Long startWaitMs, Integer warmupErrors) {
    this(client, strategy, requests, errors, firstError, durationMs, requestsPerSecond, p50Ms, p99Ms, stats,
        clientTimeWait, serverTimeWait, unresolvedHost, clientTimeWaitBefore, serverTimeWaitBefore, settings,
        startWaitMs, warmupErrors, null, null);
  }

  /**
   * What each request was and how the load was paced, as the JSON and the summary report them.
   *
   * @param method GET or POST
   * @param bodySize the POST body's bytes (0 for GET)
   * @param retries whether the client's own retries were on
   * @param retirement pooled: how a connection retires (reset or server-close); null otherwise
   * @param rate requests per second over all workers; null when not paced by a rate
   * @param burst requests per burst, per worker; null when not paced by bursts
   * @param idleGapMinMs the shortest idle gap after a burst; null without bursts
   * @param idleGapMaxMs the longest idle gap after a burst; null without bursts
   * @param seed the idle gaps' seed; null without bursts
   * @param startSignal {@code --start-signal}, the file that started the load; null without it
   * @param warmup {@code --warmup}, requests sent before the load and not counted
   */
  public record Settings(String method, int bodySize, boolean retries, String retirement, Double rate,
      Integer burst, Long idleGapMinMs, Long idleGapMaxMs, Long seed, String startSignal, int warmup) {

    /** The settings of {@code spec}. */
    static Settings of(LoadSpec spec) {
      LoadSpec.Pacing p = spec.pacing();
      String retirement = spec.strategy() instanceof PooledKeepAlive pooled
          ? pooled.retirement().name().toLowerCase(Locale.ROOT).replace('_', '-')
          : null;
      return new Settings(spec.method().name(), spec.bodySize(), spec.retries(), retirement,
          p.byRate() ? p.rate() : null,
          p.byBursts() ? p.burst() : null,
          p.byBursts() ? p.gapMinMs() : null,
          p.byBursts() ? p.gapMaxMs() : null,
          p.byBursts() ? p.seed() : null,
          spec.startSignal() == null ? null : spec.startSignal().toString(),
          spec.warmup());
    }

    /** One line for the summary, e.g. {@code POST 256 B, retries off, bursts of 6, idle gaps 800-1400 ms (seed 7)}. */
    String describe() {
      StringBuilder s = new StringBuilder(method);
      if ("POST".equals(method)) {
        s.append(' ').append(bodySize).append(" B");
      }
      s.append(", retries ").append(retries ? "on" : "off");
      if (retirement != null) {
        s.append(", retirement ").append(retirement);
      }
      if (rate != null) {
        s.append(String.format(Locale.ROOT, ", paced at %s req/s", rateText(rate)));
      } else if (burst != null) {
        s.append(String.format(Locale.ROOT, ", bursts of %d per worker, idle gaps %d-%d ms (seed %d)",
            burst, idleGapMinMs, idleGapMaxMs, seed));
      } else {
        s.append(", unpaced");
      }
      return s.toString();
    }

    private static String rateText(double rate) {
      return rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate);
    }
  }

  /** The exit code of the load CLI: 0 with no errors, 1 with any. */
  public int exitCode() {
    return errors == 0 ? 0 : 1;
  }

  /** The one-line JSON object of {@code load --json}. */
  public String toJson() {
    return new Json()
        .field("client", client)
        .field("strategy", strategy)
        .field("requests", requests)
        .field("errors", errors)
        .field("firstError", firstError)
        .field("durationMs", durationMs)
        .field("requestsPerSecond", requestsPerSecond)
        .field("p50Ms", p50Ms)
        .field("p99Ms", p99Ms)
        .field("connectionsOpened", stats == null ? null : stats.connectionsOpened())
        .field("closedAfterPeerFin", stats == null ? null : stats.closedAfterPeerFin())
        .field("closedByReset", stats == null ? null : stats.closedByReset())
        .field("closedLocallyFirst", stats == null ? null : stats.closedLocallyFirst())
        .field("finWaitTimeouts", stats == null ? null : stats.finWaitTimeouts())
        .field("clientTimeWait", clientTimeWait)
        .field("serverTimeWait", serverTimeWait)
        .field("clientTimeWaitBefore", clientTimeWaitBefore)
        .field("serverTimeWaitBefore", serverTimeWaitBefore)
        .field("method", settings == null ? null : settings.method())
        .field("bodySize", settings == null ? null : settings.bodySize())
        .field("retries", settings == null ? null : settings.retries() ? "on" : "off")
        .field("retirement", settings == null ? null : settings.retirement())
        .exactField("rate", settings == null ? null : settings.rate())
        .field("burst", settings == null ? null : settings.burst())
        .field("idleGapMinMs", settings == null ? null : settings.idleGapMinMs())
        .field("idleGapMaxMs", settings == null ? null : settings.idleGapMaxMs())
        .field("seed", settings == null ? null : settings.seed())
        .field("startSignal", settings == null ? null : settings.startSignal())
        .field("startWaitMs", startWaitMs)
        .field("warmup", settings == null ? null : settings.warmup())
        .field("warmupErrors", warmupErrors)
        .field("firstErrorMs", firstErrorMs)
        .field("succeededBeforeFirstError", succeededBeforeFirstError)
        .toString();
  }

  /** A human summary, several lines, ending with a newline. */
  public String summary() {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "client %s, strategy %s%n", client, strategy));
    if (settings != null) {
      s.append("settings      ").append(settings.describe()).append(System.lineSeparator());
      if (settings.warmup() > 0 && warmupErrors != null) {
        s.append(String.format(Locale.ROOT, "warm-up       %d requests before the load, not counted: %d failed%n",
            settings.warmup(), warmupErrors));
      }
      if (settings.startSignal() != null && startWaitMs != null) {
        s.append(String.format(Locale.ROOT, "start         on %s, after waiting %d ms for it%n",
            settings.startSignal(), startWaitMs));
      }
    }
    s.append(String.format(Locale.ROOT, "requests      %d in %d ms (%.1f req/s), %d errors%n",
        requests, durationMs, requestsPerSecond, errors));
    if (firstError != null) {
      s.append("first error   ").append(firstError).append(System.lineSeparator());
      if (firstErrorMs != null && succeededBeforeFirstError != null) {
        s.append(String.format(Locale.ROOT, "              at %d ms into the load, after %d successful requests%n",
            firstErrorMs, succeededBeforeFirstError));
      }
    }
    s.append(String.format(Locale.ROOT, "latency       p50 %s ms, p99 %s ms%n", ms(p50Ms), ms(p99Ms)));
    if (stats == null && "raw".equals(strategy)) {
      s.append("connections   not counted (raw: the client without timewait, whose sockets do the counting)")
          .append(System.lineSeparator());
    } else if (stats == null) {
      s.append("connections   not counted (naive HttpClient 5: no public socket-factory hook without the adapter;"
          + " naive Reactor Netty: not instrumented)")
          .append(System.lineSeparator());
    } else {
      s.append(String.format(Locale.ROOT,
          "connections   %d opened; closed: %d after the server's FIN, %d by reset, %d locally first; "
              + "%d FIN-wait timeouts%n",
          stats.connectionsOpened(), stats.closedAfterPeerFin(), stats.closedByReset(),
          stats.closedLocallyFirst(), stats.finWaitTimeouts()));
    }
    if (unresolvedHost != null) {
      // Not "no /proc/net/tcp": the table may be readable, but there is no address to count for.
      s.append("TIME_WAIT     n/a: host ").append(unresolvedHost).append(" could not be resolved")
          .append(System.lineSeparator());
    } else {
      s.append(String.format(Locale.ROOT, "TIME_WAIT     client %s, server %s (kernel table, after the run)%n",
          count(clientTimeWait, "n/a (no /proc/net/tcp)") + added(clientTimeWait, clientTimeWaitBefore),
          count(serverTimeWait, "n/a (not local)") + added(serverTimeWait, serverTimeWaitBefore)));
      if (clientTimeWaitBefore != null) {
        s.append(String.format(Locale.ROOT, "              before the run: client %d%s%n", clientTimeWaitBefore,
            serverTimeWaitBefore == null ? "" : ", server " + serverTimeWaitBefore));
      }
    }
    return s.toString();
  }

  static String ms(Double value) {
    return value == null ? "-" : String.format(Locale.ROOT, "%.2f", value);
  }

  /** " (+N)": the change since the baseline, when both counts exist. */
  private static String added(Integer after, Integer before) {
    return after == null || before == null ? "" : String.format(Locale.ROOT, " (%+d)", after - before);
  }

  private static String count(Integer value, String absent) {
    return value == null ? absent : value.toString();
  }
}
