package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuProfileOwnerTest {
  @Test
  void timewaitsOwnFramesAndTheJdkCodeTheyCallAreNamedApart() {
    assertThat(CpuProfile.owner(List.of("dev.timewait.okhttp.SlotInterceptor",
        "okhttp3.internal.http.RealInterceptorChain")).label)
        .isEqualTo("timewait's own code");
    assertThat(CpuProfile.owner(List.of("java.util.concurrent.locks.ReentrantLock",
        "dev.timewait.okhttp.SlotInterceptor", "okhttp3.internal.http.RealInterceptorChain")).label)
        .isEqualTo("the JDK, called from timewait's code");
  }

  @Test
  void clientCodeThatTimewaitsInterceptorCallsOnToStaysTheClients() {
    assertThat(CpuProfile.owner(List.of("kotlin.jvm.internal.Intrinsics", "okio.RealBufferedSource",
        "okhttp3.internal.http.RealInterceptorChain", "dev.timewait.okhttp.SlotInterceptor")).label)
        .isEqualTo("the client library (and the JDK it calls)");
  }

  @Test
  void theDriverAndStacksOfOnlyJdkFramesAreNamedApart() {
    assertThat(CpuProfile.owner(List.of("java.lang.Thread", "dev.timewait.benchmarks.CpuProfile")).label)
        .isEqualTo("the harness's driver");
    assertThat(CpuProfile.owner(List.of("java.lang.Thread", "jdk.internal.misc.Unsafe")).label)
        .isEqualTo("the JDK only");
  }
}
