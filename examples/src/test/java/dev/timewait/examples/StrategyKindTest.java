package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseStrategy;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StrategyKindTest {

  @Test
  void everyStrategyOfCoreIsAKindOfTheCliUnderCoresId() {
    for (CloseStrategy.Kind core : CloseStrategy.Kind.values()) {
      StrategyKind cli = StrategyKind.of(core.id());

      assertThat(cli.timewait()).contains(core);
      assertThat(cli.withoutTimewait()).isFalse();
    }
  }

  @Test
  void theBaselinesUseNoneOfTimewaitsStrategies() {
    assertThat(Arrays.stream(StrategyKind.values()).filter(StrategyKind::withoutTimewait))
        .containsExactly(StrategyKind.NAIVE, StrategyKind.RAW);
    assertThat(StrategyKind.NAIVE.timewait()).isEmpty();
    assertThat(StrategyKind.labels()).isEqualTo("naive, server-close, reset, pooled, raw");
  }
}
