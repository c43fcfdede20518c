package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * On an HttpClient older than 5.5 (the compatibility matrix runs this with {@code
 * -Dhttpclient5.runtime.version=5.4.4}, the newest release below the floor, which links, and
 * {@code -Dtimewait.expect.unsupported=true}), configure fails at once and names the version floor
 * and the release found.
 */
@EnabledIfSystemProperty(named = "timewait.expect.unsupported", matches = "true")
class UnsupportedHttpClientTest {
  @Test
  void configureOnAnOlderHttpClientNamesTheVersionFloor() {
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(HttpClients.custom(), CloseStrategy.reset()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs HttpClient 5.5 or later 5.x").hasMessageContaining("is on the class path");
    assertThatThrownBy(() -> TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), CloseStrategy.reset()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs HttpClient 5.5 or later 5.x").hasMessageContaining("is on the class path");
  }
}
