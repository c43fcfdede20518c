package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OnlyOptionTest {
  @Test
  void noOnlyValueSelectsEveryPair() {
    assertThat(Benchmarks.selected(null, "7 the reuse check")).isTrue();
  }

  @Test
  void onlyValueSelectsLabelsContainingIt() {
    assertThat(Benchmarks.selected("1 adapter", "1 adapter overhead")).isTrue();
    assertThat(Benchmarks.selected("1 adapter", "1a adapter overhead, cap 500 on both")).isFalse();
  }

  @Test
  void barSeparatedPartsSelectLabelsContainingAnyOfThem() {
    String only = "0 control: A/A|2 server";
    assertThat(Benchmarks.selected(only, "0 control: A/A, a connection per request")).isTrue();
    assertThat(Benchmarks.selected(only, "2 server close vs Connection: close")).isTrue();
    assertThat(Benchmarks.selected(only, "7 control: A/A for the reuse check")).isFalse();
  }
}
