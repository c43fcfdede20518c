package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The builders are the way in to readings made by hand, so that a new component breaks no caller. */
class ReadingBuildersTest {

  @Test
  void settingsReadFromAFixtureRebuildToTheSameValue() {
    KernelSettings tuned = KernelSettings.read(ProcFixtures.root("proc-tuned"));

    assertThat(tuned.toBuilder().build()).isEqualTo(tuned);
    assertThat(tuned.toBuilder().twReuse(TwReuse.ALL).build().twReuse()).isEqualTo(TwReuse.ALL);
  }

  @Test
  void usablePortsAreDerivedFromTheRangeLessTheReservedPortsInIt() {
    KernelSettings s = KernelSettings.builder().localPortRange(new PortRange(40000, 40099))
        .reservedPorts(List.of(new PortRange(40010, 40019), new PortRange(40050, 40050),
            new PortRange(50000, 50010)))
        .build();

    assertThat(s.supported()).isTrue();
    assertThat(s.usablePorts()).isEqualTo(89);
    assertThat(s.twReuse()).isEqualTo(TwReuse.UNKNOWN);
    assertThat(s.maxTwBuckets()).isEqualTo(KernelSettings.UNKNOWN);
  }

  @Test
  void settingsNeedARangeAndUnsupportedSettingsHaveNothingToChange() {
    assertThatThrownBy(() -> KernelSettings.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("localPortRange must be set");
    assertThatThrownBy(() -> KernelSettings.unsupported("unsupported on this OS: x").toBuilder())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("unsupported on this OS: x");
    assertThatThrownBy(() -> KernelSettings.builder().twReuse(null))
        .isInstanceOf(NullPointerException.class).hasMessage("twReuse cannot be null");
  }

  @Test
  void aNegativeSettingOtherThanUnknownIsRejectedByNameAndValue() {
    KernelSettings.Builder b = KernelSettings.builder().localPortRange(new PortRange(40000, 40099));
    assertThatThrownBy(() -> b.finTimeoutSeconds(-3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("finTimeoutSeconds must be between -1 and 2147483647, but was -3");
    assertThatThrownBy(() -> b.finTimeoutSeconds(60).maxTwBuckets(-7).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("maxTwBuckets must be");
    assertThatThrownBy(() -> b.maxTwBuckets(0).twReuseDelayMillis(-9).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("twReuseDelayMillis must be");
    assertThat(b.twReuseDelayMillis(KernelSettings.UNKNOWN).build().twReuseDelayMillis())
        .isEqualTo(KernelSettings.UNKNOWN);
  }

  @Test
  void countersNotSetAreUnknown() {
    KernelCounters c = KernelCounters.builder().timeWait(7).abortOnData(3).build();

    assertThat(c.supported()).isTrue();
    assertThat(c.timeWait()).isEqualTo(7);
    assertThat(c.abortOnData()).isEqualTo(3);
    assertThat(c.activeOpens()).isEqualTo(KernelCounters.UNKNOWN);
    assertThat(c.abortOnClose()).isEqualTo(KernelCounters.UNKNOWN);
  }

  @Test
  void aNegativeCounterOtherThanUnknownIsRejectedByNameAndValue() {
    assertThatThrownBy(() -> KernelCounters.builder().timeWait(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeWait must be between -1 and 9223372036854775807, but was -5");
    assertThatThrownBy(() -> KernelCounters.builder().abortOnClose(Long.MIN_VALUE))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("abortOnClose must be");
    assertThat(KernelCounters.builder().outRsts(KernelCounters.UNKNOWN).build().outRsts())
        .isEqualTo(KernelCounters.UNKNOWN);
  }
}
