package dev.timewait.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KeepAliveAnnouncementTest {
  @Test
  void anAnnouncedTimeoutRetiresTheConnectionAFifthEarlierButNeverMoreThanASecond() {
    assertThat(KeepAliveAnnouncement.retireAfterIdleNanos("timeout=1"))
        .isEqualTo(TimeUnit.MILLISECONDS.toNanos(800));
    assertThat(KeepAliveAnnouncement.retireAfterIdleNanos("timeout=5, max=100"))
        .isEqualTo(TimeUnit.SECONDS.toNanos(4));
    assertThat(KeepAliveAnnouncement.retireAfterIdleNanos("max=100, timeout=60"))
        .isEqualTo(TimeUnit.SECONDS.toNanos(59));
    assertThat(KeepAliveAnnouncement.retireAfterIdleNanos(" Timeout = \"2\" ")).isEqualTo(
        TimeUnit.MILLISECONDS.toNanos(1600));
    assertThat(KeepAliveAnnouncement.retireAfterIdleNanos("timeout=0")).isZero();
  }

  @Test
  void aMissingOrMalformedTimeoutIsNotAnAnnouncement() {
    for (String header : new String[] {null, "", "max=5", "timeout=", "timeout=-1", "timeout=1.5",
        "timeout=abc", "timeout=99999999999"}) {
      assertThat(KeepAliveAnnouncement.retireAfterIdleNanos(header)).as(header)
          .isEqualTo(KeepAliveAnnouncement.NOT_ANNOUNCED);
    }
  }

  @Test
  void theRemainingRequestsComeFromMax() {
    assertThat(KeepAliveAnnouncement.remainingRequests("timeout=5, max=99")).isEqualTo(99);
    assertThat(KeepAliveAnnouncement.remainingRequests("timeout=5"))
        .isEqualTo(KeepAliveAnnouncement.NOT_ANNOUNCED);
  }

  @Test
  void maxZeroMeansTheServerTakesNoMoreRequests() {
    assertThat(KeepAliveAnnouncement.allowsNoMoreRequests("timeout=5, max=0")).isTrue();
    assertThat(KeepAliveAnnouncement.allowsNoMoreRequests("timeout=5, max=1")).isFalse();
    assertThat(KeepAliveAnnouncement.allowsNoMoreRequests("timeout=5")).isFalse();
    assertThat(KeepAliveAnnouncement.allowsNoMoreRequests(null)).isFalse();
  }

  @Test
  void timeoutZeroMeansTheServerKeepsNoIdleConnectionSoItIsNotReused() {
    assertThat(KeepAliveAnnouncement.allowsNoIdleTime("timeout=0")).isTrue();
    assertThat(KeepAliveAnnouncement.allowsNoIdleTime("timeout=0, max=100")).isTrue();
    assertThat(KeepAliveAnnouncement.allowsNoIdleTime("timeout=1")).isFalse();
    assertThat(KeepAliveAnnouncement.allowsNoIdleTime("max=0")).isFalse();
    assertThat(KeepAliveAnnouncement.allowsNoIdleTime(null)).isFalse();
    assertThat(ConnectionRules.peerAllowsReuse(false, "keep-alive", "timeout=0")).isFalse();
    assertThat(ConnectionRules.peerAllowsReuse(false, "keep-alive", "timeout=5")).isTrue();
  }
}
