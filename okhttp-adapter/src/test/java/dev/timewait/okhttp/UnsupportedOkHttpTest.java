package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * On an OkHttp older than 5.4 (the compatibility matrix runs this with {@code
 * -Dokhttp.runtime.version=4.12.0} or 5.0.0 and {@code -Dtimewait.expect.unsupported=true}),
 * configure fails at once and names the version floor.
 */
@EnabledIfSystemProperty(named = "timewait.expect.unsupported", matches = "true")
class UnsupportedOkHttpTest {
  @Test
  void configureOnAnOlderOkHttpNamesTheVersionFloor() {
    assertThatThrownBy(() -> TimeWaitOkHttp.configure(new OkHttpClient.Builder(), CloseStrategy.reset()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs OkHttp 5.4 or later");
  }
}
