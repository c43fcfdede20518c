package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void writesFieldsInOrderOnOneLine() {
    String json = new Json().field("client", "okhttp").field("errors", 0L).field("p99Ms", 1.25)
        .field("ok", true).toString();

    assertThat(json).isEqualTo("{\"client\":\"okhttp\",\"errors\":0,\"p99Ms\":1.25,\"ok\":true}");
  }

  @Test
  void emptyObjectIsBraces() {
    assertThat(new Json().toString()).isEqualTo("{}");
  }

  @Test
  void nullsOfEveryTypeWriteJsonNull() {
    String json = new Json().field("s", (String) null).field("l", (Long) null).field("i", (Integer) null)
        .field("d", (Double) null).toString();

    assertThat(json).isEqualTo("{\"s\":null,\"l\":null,\"i\":null,\"d\":null}");
  }

  @Test
  void nonFiniteDecimalsWriteNullBecauseJsonCannotHoldThem() {
    String json = new Json().field("nan", Double.NaN).field("inf", Double.POSITIVE_INFINITY).toString();

    assertThat(json).isEqualTo("{\"nan\":null,\"inf\":null}");
  }

  @Test
  void decimalsRoundToThreePlacesWithoutExponentOrTrailingZeros() {
    String json = new Json().field("a", 1234.56789).field("b", 2.0).field("c", 1e-7).field("d", 1e12).toString();

    assertThat(json).isEqualTo("{\"a\":1234.568,\"b\":2,\"c\":0,\"d\":1000000000000}");
  }

  @Test
  void escapesQuotesBackslashesAndControlCharacters() {
    String nasty = "say \"hi\"\\ \n\r\t\b\f \u0001 \u001f \u2028 é 😀";

    String json = new Json().field("s", nasty).toString();

    assertThat(json).isEqualTo(
        "{\"s\":\"say \\\"hi\\\"\\\\ \\n\\r\\t\\b\\f \\u0001 \\u001f \\u2028 é 😀\"}");
  }

  @Test
  void escapesFieldNamesToo() {
    assertThat(new Json().field("a\"b", 1L).toString()).isEqualTo("{\"a\\\"b\":1}");
  }

  @Test
  void outputParsesBackToTheSameValues() throws Exception {
    String nasty = "line1\nline2 \"quoted\" \\ \u0000 tab\t";
    String json = new Json().field("s", nasty).field("n", Long.MAX_VALUE).field("d", 0.5).toString();

    JsonNode node = new ObjectMapper().readTree(json);

    assertThat(node.get("s").asText()).isEqualTo(nasty);
    assertThat(node.get("n").asLong()).isEqualTo(Long.MAX_VALUE);
    assertThat(node.get("d").asDouble()).isEqualTo(0.5);
  }

  @Test
  void nullNameIsRejected() {
    assertThatThrownBy(() -> new Json().field(null, "x"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("name cannot be null");
  }

  @Test
  void nestedObjectsAndArraysWriteInPlace() {
    Json budget = new Json().field("usable", 28232).field("sockets", new Json().field("TIME_WAIT", 300));

    String json = new Json().field("budget", budget).array("reasons", List.of("a", "b")).toString();

    assertThat(json).isEqualTo("{\"budget\":{\"usable\":28232,\"sockets\":{\"TIME_WAIT\":300}},"
        + "\"reasons\":[\"a\",\"b\"]}");
  }

  @Test
  void arraysHoldEverySupportedTypeAndNulls() {
    List<Object> values = Arrays.asList("s\"q", 1L, 2, 0.12345, Double.NaN, true, null, new Json().field("k", "v"));

    String json = new Json().array("a", values).array("empty", List.of()).array("none", null)
        .field("nothing", (Json) null).toString();

    assertThat(json).isEqualTo(
        "{\"a\":[\"s\\\"q\",1,2,0.123,null,true,null,{\"k\":\"v\"}],\"empty\":[],\"none\":null,\"nothing\":null}");
  }

  @Test
  void nestedOutputParsesBackToTheSameStructure() throws Exception {
    String json = new Json().field("o", new Json().field("n", 7L).array("xs", List.of(1, 2)))
        .array("objs", List.of(new Json().field("name", "x\ny"), new Json())).toString();

    JsonNode node = new ObjectMapper().readTree(json);

    assertThat(node.get("o").get("n").asLong()).isEqualTo(7);
    assertThat(node.get("o").get("xs")).hasSize(2);
    assertThat(node.get("objs").get(0).get("name").asText()).isEqualTo("x\ny");
    assertThat(node.get("objs").get(1).isEmpty()).isTrue();
  }

  @Test
  void arrayElementOfAnUnsupportedTypeIsRejectedWithItsType() {
    assertThatThrownBy(() -> new Json().array("a", List.of(new Object())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("array elements must be String, Long, Integer, Double, Boolean, Json or null,"
            + " but one was a java.lang.Object");
  }
}
