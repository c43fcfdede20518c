package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SupportedVersionTest {
  @ParameterizedTest
  @ValueSource(strings = {"5.4.4", "5.4", "5.3.1", "5.0-beta1", "5.1.3"})
  void releasesBelowFivePointFiveAreRefused(String release) {
    assertThat(SupportedVersion.isBelowFloor(release)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"5.5", "5.5.0", "5.5.2", "5.6.5", "5.7-alpha1", "5.10.1", "6.0.0"})
  void theFloorAndLaterReleasesAreAccepted(String release) {
    assertThat(SupportedVersion.isBelowFloor(release)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "UNAVAILABLE", "5", "five.four", "${project.version}"})
  void aReleaseThatCannotBeReadIsNoReasonToRefuse(String release) {
    assertThat(SupportedVersion.isBelowFloor(release)).isFalse();
    assertThat(SupportedVersion.isBelowFloor(null)).isFalse();
  }

  @Test
  void theBuildsOwnHttpClientPassesTheCheck() {
    // This module's tests run on the HttpClient it is built against (5.6), or on the
    // compatibility matrix's supported release: both pass; 5.4.4 is UnsupportedHttpClientTest's.
    assertThatCode(SupportedVersion::check).doesNotThrowAnyException();
  }
}
