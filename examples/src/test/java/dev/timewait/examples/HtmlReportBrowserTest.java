package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load report's charts render in a real browser: headless Chromium loads the page from a
 * file, runs its script, and dumps the DOM, in which every chart must carry an SVG with one path
 * per run that has values, each with as many points as the data has values. Skipped, saying so,
 * when no Chromium is on PATH (CI installs Debian's: .ci/run).
 */
class HtmlReportBrowserTest {
  /** The browser's whole run, bounded: a hung browser fails the test, it never hangs the build. */
  static final long BROWSER_TIMEOUT_S = 90;
  static final List<String> NAMES = List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable");

  static Path browser;

  @BeforeAll
  static void findBrowser() {
    browser = onPath();
  }

  static Path onPath() {
    String path = System.getenv("PATH");
    for (String dir : path == null ? new String[0] : path.split(File.pathSeparator)) {
      for (String name : NAMES) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    return null;
  }

  /** The DOM after the page's script ran, as headless Chromium serializes it. */
  static String renderedDom(Path page, Path dir) throws Exception {
    assumeTrue(browser != null, "no chromium on PATH (one of " + NAMES + "): the report's charts were not "
        + "checked in a browser; apt-get install chromium, as .ci/run does");
    Path out = dir.resolve("dom.html");
    Path log = dir.resolve("chromium.log");
    List<String> command = new ArrayList<>(List.of(browser.toString(), "--headless", "--disable-gpu",
        // Root (CI) cannot use the sandbox; the page is our own file, with no network.
        "--no-sandbox", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-dev-shm-usage", "--user-data-dir=" + dir.resolve("profile"),
        // Runs the page's timers and the load event before the dump; the script draws on load anyway.
        "--virtual-time-budget=5000", "--dump-dom", page.toUri().toString()));
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(log.toFile()).start();
    try {
      if (!p.waitFor(BROWSER_TIMEOUT_S, TimeUnit.SECONDS)) {
        throw new AssertionError("chromium did not finish within " + BROWSER_TIMEOUT_S + " s: " + tail(log));
      }
      assertThat(p.exitValue()).as("chromium's exit code; its log: %s", tail(log)).isZero();
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  /** Per chart id, the data-points of each series path, in order. */
  static Map<String, List<Integer>> seriesByChart(String dom) {
    Map<String, List<Integer>> charts = new LinkedHashMap<>();
    Matcher figure = Pattern.compile("<figure class=\"chart\" id=\"chart-(\\w+)\"[^>]*>(.*?)</figure>", Pattern.DOTALL)
        .matcher(dom);
    while (figure.find()) {
      assertThat(figure.group(0)).as("chart %s was drawn", figure.group(1)).contains("data-rendered=\"true\"")
          .contains("<svg");
      List<Integer> points = new ArrayList<>();
      Matcher path = Pattern.compile("<path class=\"series s\\d\" d=\"([^\"]*)\"[^>]*data-points=\"(\\d+)\"")
          .matcher(figure.group(2));
      while (path.find()) {
        int n = Integer.parseInt(path.group(2));
        // The path's own coordinates: one pair per point drawn.
        assertThat(path.group(1).split(" ")).as("the d of a path of %d points", n).hasSize(n);
        points.add(n);
      }
      charts.put(figure.group(1), points);
    }
    return charts;
  }

  @Test
  void theChartsDrawAPathPerRunWithAPointPerValue(@TempDir Path dir) throws Exception {
    Path page = dir.resolve("report.html");
    Files.writeString(page, HtmlReportTest.page(), StandardCharsets.UTF_8);

    String dom = renderedDom(page, dir);

    assertThat(dom).contains("data-rendered=\"5\"");
    Map<String, List<Integer>> charts = seriesByChart(dom);
    // 4 samples: rates from the second on (3 points), p99 where requests succeeded (2), TIME_WAIT at every sample (4).
    assertThat(charts).containsExactly(
        Map.entry("rps", List.of(3, 3)),
        Map.entry("errorsPerSecond", List.of(3, 3)),
        Map.entry("p99Ms", List.of(2, 2)),
        Map.entry("clientTimeWait", List.of(4, 4)),
        // The second run's target was not local: no server count, so no line, and the legend says so.
        Map.entry("serverTimeWait", List.of(4)));
    assertThat(dom).contains("(not counted)");
    // The hostile label went in as text: escaped in the serialized DOM, never an element.
    assertThat(dom).contains("&lt;b&gt;okhttp&lt;/b&gt; naive").doesNotContain("<b>okhttp");
  }

  @Test
  void aPageTheCliWroteRendersBothRuns(@TempDir Path dir) throws Exception {
    // A page as `load --compare-naive --report` writes it, from samples a real timeline took.
    Path page = dir.resolve("cli.html");
    List<HtmlReport.Run> runs = new ArrayList<>();
    for (String strategy : List.of("reset", "naive")) {
      LoadTimeline timeline = new LoadTimeline(4);
      for (int s = 0; s <= 9; s++) {
        timeline.add(new LoadTimeline.Sample(s * 1000L, s * 100L, 0, 2.0 + s, strategy.equals("naive") ? s * 100 : 0, 0));
      }
      runs.add(new HtmlReport.Run(HtmlReportTest.result("hc5", strategy, null), timeline.samples()));
    }
    HtmlReport.write(page, HtmlReportTest.URL, runs);
    int samples = runs.get(0).samples().size();

    Map<String, List<Integer>> charts = seriesByChart(renderedDom(page, dir));

    assertThat(charts.get("rps")).containsExactly(samples - 1, samples - 1);
    assertThat(charts.get("clientTimeWait")).containsExactly(samples, samples);
  }
}
