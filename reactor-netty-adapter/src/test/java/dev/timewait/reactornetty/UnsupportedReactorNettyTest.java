package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * On a Reactor Netty older than 1.2 (the compatibility matrix runs this with {@code
 * -Dreactor-netty.runtime.version=1.1.0} and {@code -Dtimewait.expect.unsupported=true}), the
 * pooled connection provider fails at once and names the version floor.
 */
@EnabledIfSystemProperty(named = "timewait.expect.unsupported", matches = "true")
class UnsupportedReactorNettyTest {
  @Test
  void thePooledProviderOnAnOlderReactorNettyNamesTheVersionFloor() {
    assertThatThrownBy(() -> TimeWaitReactorNetty.connectionProvider("old", CloseStrategy.pooled()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs Reactor Netty 1.2 or later");
  }
}
