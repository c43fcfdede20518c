package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A smoke pass of the allocation-site profile: it runs and prints its table; nothing measured. */
class AllocationSitesTest {
  @Test
  void twoVariantsAreProfiledAndTheirSitesPrintedSideBySide() throws Exception {
    List<AllocationSites.Profile> profiles =
        AllocationSites.run(Library.OKHTTP, Variant.LIB_POOLED, Variant.RAW_POOLED, 5, 5);

    assertThat(profiles).hasSize(2).allSatisfy(p -> {
      assertThat(p.errors()).isZero();
      assertThat(p.threadBytesPerRequest()).isPositive();
    });
    assertThat(AllocationSites.markdown(Library.OKHTTP, profiles.get(0), profiles.get(1), 5, 10))
        .contains("A = timewait pooled, B = raw pooled", "| all client threads (ThreadMXBean) |",
            "| A bytes/request | B | A - B | object | allocated in | called from |");
  }
}
