package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The load report page: well-formed, everything user-given escaped, every series in its data. */
class HtmlReportTest {
  static final URI URL = URI.create("http://127.0.0.1:8080/hello?token=secret");
  static final Instant WRITTEN = Instant.parse("2026-12-02T06:00:00Z");

  /** A result whose names and error carry markup, as a hostile server's message or a user's label could. */
  static LoadResult result(String client, String strategy, String firstError) {
    return new LoadResult(client, strategy, 300, firstError == null ? 0 : 1, firstError, 3000, 100, 1.5, 9.0,
        null, 12, 0, null, 2, 0, null, null, null);
  }

  /** Samples at 0, 1, 2 and 3 s: 100, then 200, then 0 requests per second; errors in the second second. */
  static List<LoadTimeline.Sample> samples(Integer serverTimeWait) {
    return List.of(
        new LoadTimeline.Sample(0, 0, 0, null, 2, serverTimeWait),
        new LoadTimeline.Sample(1000, 100, 0, 4.0, 50, serverTimeWait),
        new LoadTimeline.Sample(2000, 300, 10, 8.5, 250, serverTimeWait),
        new LoadTimeline.Sample(3000, 300, 10, null, 250, serverTimeWait));
  }

  static String page() {
    return HtmlReport.render(URL, List.of(
        new HtmlReport.Run(result("okhttp", "reset", null), samples(0)),
        new HtmlReport.Run(result("<b>okhttp</b>", "naive'\"", "HTTP 500 </script><script>alert(1)</script> & more"),
            samples(null))), WRITTEN);
  }

  /** The page's embedded data, as its script reads it. */
  static JsonNode data(String html) throws Exception {
    Matcher m = Pattern.compile("<script type=\"application/json\" id=\"report-data\">(.*?)</script>", Pattern.DOTALL)
        .matcher(html);
    assertThat(m.find()).as("the data element").isTrue();
    return new ObjectMapper().readTree(m.group(1));
  }

  static Document parseXml(String html) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setExpandEntityReferences(false);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void thePageIsWellFormedWithATableRowPerRunAndAFigurePerChart() throws Exception {
    Document doc = parseXml(page());

    assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("html");
    assertThat(doc.getElementsByTagNameNS("*", "tr").getLength()).as("header + 2 runs").isEqualTo(3);
    NodeList figures = doc.getElementsByTagNameNS("*", "figure");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < figures.getLength(); i++) {
      ids.add(((Element) figures.item(i)).getAttribute("id"));
    }
    assertThat(ids).containsExactly("chart-rps", "chart-errorsPerSecond", "chart-p99Ms", "chart-clientTimeWait",
        "chart-serverTimeWait");
    assertThat(doc.getElementsByTagNameNS("*", "script").getLength()).isEqualTo(2);
  }

  @Test
  void thePageLoadsNothingFromTheNetwork() {
    String html = page();
    assertThat(html).doesNotContain("src=", "href=", "@import", "url(", "https://", "//cdn");
    // The only URLs on the page: the target, and the XHTML and SVG namespaces (names, never fetched).
    assertThat(Pattern.compile("https?://[^\"'<\\s]+").matcher(html).results().map(java.util.regex.MatchResult::group).distinct().toList())
        .containsExactlyInAnyOrder("http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg",
            "http://127.0.0.1:8080/hello?...");
  }

  @Test
  void everythingUserGivenIsEscapedInTheTableAndInTheData() throws Exception {
    String html = page();

    assertThat(html).doesNotContain("<b>okhttp", "<script>alert", "secret", "naive'\"");
    assertThat(html).contains("&lt;b&gt;okhttp&lt;/b&gt; naive&#39;&quot;",
        "HTTP 500 &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more",
        "http://127.0.0.1:8080/hello?...");
    // In the script element, the JSON's own escapes: same value, no markup.
    assertThat(html).contains("\\u003cb\\u003eokhttp\\u003c/b\\u003e naive'\\\"");
    assertThat(data(html).get("runs").get(1).get("label").asText()).isEqualTo("<b>okhttp</b> naive'\"");
    assertThat(data(html).get("target").asText()).isEqualTo("http://127.0.0.1:8080/hello?...");
    // The table's text, as a parser reads it back, is the original.
    Document doc = parseXml(html);
    assertThat(doc.getElementsByTagNameNS("*", "tbody").item(0).getTextContent())
        .contains("<b>okhttp</b> naive'\"", "HTTP 500 </script><script>alert(1)</script> & more");
  }

  @Test
  void everySeriesIsInTheDataWithOneValuePerSample() throws Exception {
    JsonNode runs = data(page()).get("runs");

    assertThat(runs).hasSize(2);
    JsonNode first = runs.get(0);
    assertThat(first.get("label").asText()).isEqualTo("okhttp reset");
    assertThat(values(first.get("t"))).containsExactly(0.0, 1.0, 2.0, 3.0);
    // Rates between samples; none at the start.
    assertThat(values(first.get("rps"))).containsExactly(null, 100.0, 200.0, 0.0);
    assertThat(values(first.get("errorsPerSecond"))).containsExactly(null, 0.0, 10.0, 0.0);
    assertThat(values(first.get("p99Ms"))).containsExactly(null, 4.0, 8.5, null);
    assertThat(values(first.get("clientTimeWait"))).containsExactly(2.0, 50.0, 250.0, 250.0);
    assertThat(values(first.get("serverTimeWait"))).containsExactly(0.0, 0.0, 0.0, 0.0);
    // Not local: no server count, and the page says so rather than drawing zeros.
    assertThat(values(runs.get(1).get("serverTimeWait"))).containsExactly(null, null, null, null);
  }

  @Test
  void aShortLastIntervalIsTakenTogetherWithTheOneBeforeItNotChartedAsASpike() throws Exception {
    // The load ended 40 ms after a tick, with 20 more requests: 500/s over 40 ms, but 20 + 100 over 1.04 s.
    List<LoadTimeline.Sample> samples = List.of(
        new LoadTimeline.Sample(0, 0, 0, null, 0, null),
        new LoadTimeline.Sample(1000, 100, 0, 1.0, 0, null),
        new LoadTimeline.Sample(2000, 200, 0, 1.0, 0, null),
        new LoadTimeline.Sample(2040, 220, 0, 1.0, 0, null));
    String html = HtmlReport.render(URL, List.of(new HtmlReport.Run(result("hc5", "reset", null), samples)), WRITTEN);

    List<Double> rps = values(data(html).get("runs").get(0).get("rps"));
    assertThat(rps.subList(0, 3)).containsExactly(null, 100.0, 100.0);
    assertThat(rps.get(3)).isCloseTo(120 / 1.04, org.assertj.core.data.Offset.offset(0.01));
  }

  @Test
  void aRunWithoutSamplesOrRunsIsRefusedOrEmpty() throws Exception {
    assertThatThrownBy(() -> HtmlReport.render(URL, List.of(), WRITTEN))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("runs must not be empty");
    assertThatThrownBy(() -> new HtmlReport.Run(null, List.of()))
        .isInstanceOf(NullPointerException.class).hasMessage("result cannot be null");
    String html = HtmlReport.render(URL, List.of(new HtmlReport.Run(result("hc5", "pooled", null), List.of())), WRITTEN);
    parseXml(html);
    assertThat(data(html).get("runs").get(0).get("rps")).isEmpty();
  }

  @Test
  void escapeReplacesMarkupQuotesAndControlCharacters() {
    assertThat(HtmlReport.escape("a<b>&\"'\u0001c")).isEqualTo("a&lt;b&gt;&amp;&quot;&#39; c");
    assertThat(HtmlReport.scriptSafe("{\"x\":\"</script><!-- ]]> &\"}"))
        .isEqualTo("{\"x\":\"\\u003c/script\\u003e\\u003c!-- ]]\\u003e \\u0026\"}");
  }

  static List<Double> values(JsonNode array) {
    List<Double> out = new ArrayList<>();
    array.forEach(v -> out.add(v.isNull() ? null : v.asDouble()));
    return out;
  }
}
