package dev.timewait.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The file {@code load --series FILE.csv} writes: the same once-a-second samples as {@code
 * --report}'s charts ({@link LoadTimeline}), as CSV for scripts and plots, one row per sample of
 * every run (with {@code --compare-naive}, the strategy's run and then naive's):
 *
 * <pre>
 * client,strategy,elapsedMs,requests,errors,p99Ms,clientTimeWait,serverTimeWait
 * okhttp,reset,214,0,0,,0,0
 * okhttp,reset,1215,5213,0,4.127,0,0
 * </pre>
 *
 * <p>{@code elapsedMs} counts from the load's start, as its {@code durationMs} and {@code firstErrorMs} do
 * (the first row comes once the client is built). {@code requests} (successful or not) and {@code errors} are cumulative, as sampled, so the rate
 * between any two rows is exact; {@code p99Ms} covers the requests that succeeded since the row
 * before; an empty cell is a value not measured (no request succeeded in the interval, TIME_WAIT
 * not countable, server not on this host). Fields are only ever added at the end of a row.
 *
 * <p>Stateless and thread-safe.
 */
public final class SeriesCsv {
  /** The header row. */
  public static final String HEADER = "client,strategy,elapsedMs,requests,errors,p99Ms,clientTimeWait,serverTimeWait";

  private SeriesCsv() {}

  /** Writes the samples of {@code runs} to {@code file}, replacing it. */
  public static void write(Path file, List<HtmlReport.Run> runs) throws IOException {
    Files.writeString(file, render(runs), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
  }

  /** The file's text, header first, each row ending with a newline. */
  static String render(List<HtmlReport.Run> runs) {
    Objects.requireNonNull(runs, "runs cannot be null");
    StringBuilder csv = new StringBuilder(HEADER).append('\n');
    for (HtmlReport.Run run : runs) {
      // Names are the CLI's own labels (hc5, server-close, ...): no comma or quote to escape.
      String prefix = run.result().client() + "," + run.result().strategy() + ",";
      for (LoadTimeline.Sample s : run.samples()) {
        csv.append(prefix).append(s.elapsedMs()).append(',').append(s.requests()).append(',').append(s.errors())
            .append(',').append(s.p99Ms() == null ? "" : String.format(Locale.ROOT, "%.3f", s.p99Ms()))
            .append(',').append(s.clientTimeWait() == null ? "" : s.clientTimeWait())
            .append(',').append(s.serverTimeWait() == null ? "" : s.serverTimeWait())
            .append('\n');
      }
    }
    return csv.toString();
  }
}
