package dev.timewait.examples;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The page {@code load --report FILE.html} writes: one self-contained HTML file (no network, no
 * library) with a summary table and five charts over the run, requests per second, errors per
 * second, p99 latency, client and server TIME_WAIT, every run on the same axes (with {@code
 * --compare-naive}, the strategy's run and naive's).
 *
 * <p>The samples go into the page as JSON in a {@code <script type="application/json">} element;
 * a short script of the page's own draws one SVG per chart from them, a {@code <path
 * class="series">} per run with {@code data-points} (the points drawn), and marks each chart
 * {@code data-rendered="true"}. Everything user-given (the URL, names, errors, paths) is escaped:
 * HTML text is entity-escaped, the JSON escapes {@code <}, {@code >} and {@code &}, and the script
 * writes names with {@code textContent} only. The page is also well-formed XML (polyglot XHTML),
 * so a plain XML parser can check it.
 *
 * <p>Stateless and thread-safe.
 */
public final class HtmlReport {
  private HtmlReport() {}

  /**
   * One run on the page.
   *
   * @param result what the run measured, for the summary table and the legend
   * @param samples the run's timeline, oldest first
   */
  public record Run(LoadResult result, List<LoadTimeline.Sample> samples) {
    /** Validates non-null; copies the samples. */
    public Run {
      Objects.requireNonNull(result, "result cannot be null");
      samples = List.copyOf(Objects.requireNonNull(samples, "samples cannot be null"));
    }

    /** The run's name on the page, e.g. {@code hc5 naive}. */
    String label() {
      return result.client() + " " + result.strategy();
    }
  }

  /** Writes the page for {@code runs} against {@code url} to {@code file}, replacing it. */
  public static void write(Path file, URI url, List<Run> runs) throws IOException {
    Files.writeString(file, render(url, runs, Instant.now()), StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
  }

  /** The page, as {@link #write} writes it; {@code generated} is the time it names. */
  static String render(URI url, List<Run> runs, Instant generated) {
    Objects.requireNonNull(url, "url cannot be null");
    Objects.requireNonNull(runs, "runs cannot be null");
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("runs must not be empty");
    }
    String target = LoadEngine.redact(url);
    StringBuilder h = new StringBuilder(16_384);
    h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
        .append("<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>timewait load: ").append(escape(target)).append("</title>\n")
        .append("<style>").append(STYLE).append("</style>\n</head>\n<body>\n");
    h.append("<h1>timewait load report</h1>\n<p class=\"meta\">Target <code>").append(escape(target))
        .append("</code>, ").append(runs.size()).append(runs.size() == 1 ? " run" : " runs").append(", written ")
        .append(escape(generated.truncatedTo(ChronoUnit.SECONDS).toString())).append(" by timewait-load ")
        .append(escape(TimeWaitLoad.Version.version())).append(".</p>\n");
    summaryTable(h, runs);
    h.append("<p class=\"note\">One sample a second (the interval doubles on runs longer than ")
        .append(LoadTimeline.MAX_SAMPLES / 60).append(" minutes). Requests and errors per second between samples;")
        .append(" p99 of the requests that succeeded between samples; TIME_WAIT from the kernel's table")
        .append(" (an entry lives 60 s, so a run shows what it added on top of what an earlier one left).</p>\n");
    h.append("<noscript><p class=\"note\">The charts need JavaScript; the table above has the totals.</p></noscript>\n");
    for (String[] chart : CHARTS) {
      h.append("<figure class=\"chart\" id=\"chart-").append(chart[0]).append("\" data-series=\"").append(chart[0])
          .append("\"><figcaption>").append(chart[1]).append("</figcaption></figure>\n");
    }
    h.append("<script type=\"application/json\" id=\"report-data\">").append(scriptSafe(data(target, runs)))
        .append("</script>\n");
    // CDATA inside comments: an HTML parser runs the script as is, an XML parser reads it as text.
    h.append("<script>/*<![CDATA[*/\n").append(SCRIPT).append("\n/*]]>*/</script>\n</body>\n</html>\n");
    return h.toString();
  }

  /** The shortest interval a rate is taken over: half of {@link LoadTimeline#INTERVAL}. */
  static final long MIN_RATE_WINDOW_MS = LoadTimeline.INTERVAL.toMillis() / 2;

  /** The chart ids (also the data's series names) and their captions, in page order. */
  static final String[][] CHARTS = {
    {"rps", "Requests per second"},
    {"errorsPerSecond", "Errors per second"},
    {"p99Ms", "p99 latency, ms"},
    {"clientTimeWait", "Client TIME_WAIT (towards the target)"},
    {"serverTimeWait", "Server TIME_WAIT (on the target's port, when it is on this host)"},
  };

  private static void summaryTable(StringBuilder h, List<Run> runs) {
    h.append("<table class=\"summary\">\n<thead><tr><th>run</th><th>settings</th><th>requests</th><th>errors</th>")
        .append("<th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>client TIME_WAIT</th>")
        .append("<th>server TIME_WAIT</th><th>first error</th></tr></thead>\n<tbody>\n");
    int i = 0;
    for (Run run : runs) {
      LoadResult r = run.result();
      h.append("<tr><td><span class=\"swatch s").append(i++ % 6).append("\"></span>").append(escape(run.label()))
          .append("</td><td>").append(escape(r.settings() == null ? "" : r.settings().describe()))
          .append("</td><td>").append(r.requests())
          .append("</td><td>").append(r.errors())
          .append("</td><td>").append(String.format(Locale.ROOT, "%.1f", r.requestsPerSecond()))
          .append("</td><td>").append(LoadResult.ms(r.p50Ms()))
          .append("</td><td>").append(LoadResult.ms(r.p99Ms()))
          .append("</td><td>").append(afterBefore(r.clientTimeWait(), r.clientTimeWaitBefore()))
          .append("</td><td>").append(afterBefore(r.serverTimeWait(), r.serverTimeWaitBefore()))
          .append("</td><td>").append(escape(r.firstError() == null ? "" : r.firstError()))
          .append("</td></tr>\n");
    }
    h.append("</tbody>\n</table>\n");
  }

  /** "12 (before: 3)", or "n/a". */
  private static String afterBefore(Integer after, Integer before) {
    if (after == null) {
      return "n/a";
    }
    return before == null ? after.toString() : after + " (before: " + before + ")";
  }

  /**
   * The page's data: per run, the sample times in seconds and one array per chart, the same
   * length; null where a value is unknown (no rate at the first sample, no success for a p99, no
   * kernel count).
   */
  static String data(String target, List<Run> runs) {
    List<Object> list = new ArrayList<>();
    for (Run run : runs) {
      List<LoadTimeline.Sample> s = run.samples();
      List<Object> t = new ArrayList<>();
      List<Object> rps = new ArrayList<>();
      List<Object> eps = new ArrayList<>();
      List<Object> p99 = new ArrayList<>();
      List<Object> client = new ArrayList<>();
      List<Object> server = new ArrayList<>();
      for (int i = 0; i < s.size(); i++) {
        LoadTimeline.Sample now = s.get(i);
        t.add(now.elapsedMs() / 1000.0);
        // A rate over at least MIN_RATE_WINDOW_MS: the last sample, taken when the load ends, may
        // come a few ms after a tick, and a few requests over a few ms would chart as a spike.
        int j = i - 1;
        while (j > 0 && now.elapsedMs() - s.get(j).elapsedMs() < MIN_RATE_WINDOW_MS) {
          j--;
        }
        if (i == 0 || now.elapsedMs() <= s.get(j).elapsedMs()) {
          rps.add(null);
          eps.add(null);
        } else {
          LoadTimeline.Sample before = s.get(j);
          double seconds = (now.elapsedMs() - before.elapsedMs()) / 1000.0;
          rps.add((now.requests() - before.requests()) / seconds);
          eps.add((now.errors() - before.errors()) / seconds);
        }
        p99.add(now.p99Ms());
        client.add(now.clientTimeWait());
        server.add(now.serverTimeWait());
      }
      list.add(new Json()
          .field("label", run.label())
          .field("client", run.result().client())
          .field("strategy", run.result().strategy())
          .array("t", t)
          .array("rps", rps)
          .array("errorsPerSecond", eps)
          .array("p99Ms", p99)
          .array("clientTimeWait", client)
          .array("serverTimeWait", server));
    }
    return new Json().field("target", target).array("runs", list).toString();
  }

  /**
   * JSON made safe inside a script element and XML: {@code <}, {@code >} and {@code &} occur only
   * inside JSON strings, where their {@code \\uXXXX} escapes mean the same, and without them no
   * {@code </script>}, {@code <!--} or {@code ]]>} can end the element early.
   */
  static String scriptSafe(String json) {
    return json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
  }

  /** {@code s} as HTML text or attribute value. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> {
          // Control characters are not allowed in XML 1.0 (and mean nothing on a page).
          if (c < 0x20 && c != '\n' && c != '\t') {
            out.append(' ');
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static final String STYLE = """
      body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:960px;color:#222;padding:0 1em}
      h1{font-size:1.4em}.meta,.note{color:#555}code{font-size:.95em}
      table.summary{border-collapse:collapse;margin:1em 0;font-size:.9em}
      table.summary th,table.summary td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
      table.summary td:first-child,table.summary td:nth-child(2),table.summary td:last-child{text-align:left}
      figure.chart{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.3em}
      svg{display:block;max-width:100%;height:auto}svg text{font-size:11px;fill:#555}
      .axis{stroke:#999}.grid{stroke:#eee}.series{fill:none;stroke-width:2}
      .swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em}
      .legend{font-size:.9em;margin:.3em 0}.legend span.item{margin-right:1.2em}.absent{color:#777;font-style:italic}
      .s0{background:#d62728;stroke:#d62728}.s1{background:#1f77b4;stroke:#1f77b4}.s2{background:#2ca02c;stroke:#2ca02c}
      .s3{background:#9467bd;stroke:#9467bd}.s4{background:#ff7f0e;stroke:#ff7f0e}.s5{background:#8c564b;stroke:#8c564b}
      """;

  /**
   * Draws every chart from the data. Written for this page (no library): linear axes from 0 to a
   * rounded maximum, a path per run whose null values break the line. No less-than signs or
   * ampersands, so the script is also plain XML text.
   */
  private static final String SCRIPT = """
      (function () {
        var NS = 'http://www.w3.org/2000/svg';
        var W = 720, H = 220, L = 56, R = 16, T = 10, B = 30;
        var data = JSON.parse(document.getElementById('report-data').textContent);
        function el(name, attrs, parent) {
          var e = document.createElementNS(NS, name);
          for (var k in attrs) { e.setAttribute(k, String(attrs[k])); }
          if (parent) { parent.appendChild(e); }
          return e;
        }
        // Axis ticks: a round step (1, 2, 2.5 or 5 times a power of ten) giving about four intervals,
        // and the axis ends at the first step at or above the maximum.
        function axis(max) {
          if (!(max > 0)) { return {top: 1, step: 0.25, n: 4}; }
          var raw = max / 4, p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), step = 10 * p;
          var steps = [1, 2, 2.5, 5];
          for (var i = steps.length - 1; i !== -1; i--) { if (steps[i] * p >= raw) { step = steps[i] * p; } }
          var n = Math.max(1, Math.ceil(max / step - 1e-9));
          return {top: n * step, step: step, n: n};
        }
        function label(v) {
          if (v >= 10000) { return Math.round(v / 100) / 10 + 'k'; }
          return String(Math.round(v * 100) / 100);
        }
        function draw(figure) {
          var key = figure.getAttribute('data-series');
          var tMax = 0, yMax = 0, present = [], absent = [];
          data.runs.forEach(function (run, i) {
            var n = 0;
            run[key].forEach(function (v, j) {
              if (v !== null) { n++; yMax = Math.max(yMax, v); tMax = Math.max(tMax, run.t[j]); }
            });
            tMax = Math.max(tMax, run.t.length ? run.t[run.t.length - 1] : 0);
            (n ? present : absent).push(i);
          });
          var xAxis = axis(tMax), yAxis = axis(yMax), xTop = xAxis.top, yTop = yAxis.top;
          function x(t) { return L + (W - L - R) * t / xTop; }
          function y(v) { return H - B - (H - B - T) * v / yTop; }
          var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img'}, figure);
          el('title', {}, svg).textContent = figure.querySelector('figcaption').textContent;
          for (var gy = 0; gy !== yAxis.n + 1; gy++) { tick(false, gy * yAxis.step); }
          for (var gx = 0; gx !== xAxis.n + 1; gx++) { tick(true, gx * xAxis.step); }
          function tick(vertical, v) {
            var line = v === 0 ? 'axis' : 'grid';
            if (vertical) {
              el('line', {'class': line, x1: x(v), x2: x(v), y1: T, y2: H - B}, svg);
              el('text', {x: x(v), y: H - B + 16, 'text-anchor': 'middle'}, svg).textContent = label(v) + ' s';
            } else {
              el('line', {'class': line, x1: L, x2: W - R, y1: y(v), y2: y(v)}, svg);
              el('text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end'}, svg).textContent = label(v);
            }
          }
          present.forEach(function (i) {
            var run = data.runs[i], d = '', pen = 'M', points = 0;
            run[key].forEach(function (v, j) {
              if (v === null) { pen = 'M'; return; }
              d += pen + x(run.t[j]).toFixed(1) + ',' + y(v).toFixed(1) + ' ';
              pen = 'L';
              points++;
            });
            var path = el('path', {'class': 'series s' + (i % 6), d: d.trim(), 'data-run': i, 'data-points': points}, svg);
            el('title', {}, path).textContent = run.label;
          });
          var legend = document.createElement('div');
          legend.className = 'legend';
          data.runs.forEach(function (run, i) {
            var item = document.createElement('span');
            item.className = 'item';
            var sw = document.createElement('span');
            sw.className = 'swatch s' + (i % 6);
            item.appendChild(sw);
            item.appendChild(document.createTextNode(run.label));
            if (absent.indexOf(i) !== -1) {
              item.className += ' absent';
              item.appendChild(document.createTextNode(' (not counted)'));
            }
            legend.appendChild(item);
          });
          figure.appendChild(legend);
          figure.setAttribute('data-rendered', 'true');
        }
        var figures = document.querySelectorAll('figure.chart');
        for (var f = 0; f !== figures.length; f++) { draw(figures[f]); }
        document.body.setAttribute('data-rendered', String(figures.length));
      })();""";
}
