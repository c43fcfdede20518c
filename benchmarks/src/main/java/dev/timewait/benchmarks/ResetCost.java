package dev.timewait.benchmarks;

import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import java.util.List;
import java.util.Locale;

/**
 * What timewait's reset costs the client per connection beyond the RST itself, measured without
 * load on the machine's cores: A = timewait's reset, B = the library's naive client (keep-alive
 * off) with its close made an RST by hand ({@link ResetParts}'s {@code rst}; HttpClient 5 classic's
 * naive client resets already). Neither side leaves TIME_WAIT, so each can open as many
 * connections as the measure needs. One request thread, sequential requests, each client against
 * its own server, as {@link Allocation#pairedCost}: 20,000 warm-up requests a side, then {@code
 * ROUNDS} rounds of 2,000 a side, alternating; prints the medians of the rounds' client CPU and
 * bytes per request, A/B and each side's, and the host's TIME_WAIT before and after (the kernel's table).
 *
 * <pre>
 * java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.ResetCost --library hc5-async 20
 * </pre>
 *
 * <p>A diagnostic for issue 19 (docs/benchmarks.md, session 24): where a throughput ratio sits at
 * the harness's own error, this one's CPU difference resolves a fraction of a microsecond.
 */
final class ResetCost {
  static final int WARMUP = 20_000;
  static final int REQUESTS = 2_000;

  private ResetCost() {}

  public static void main(String[] args) throws Exception {
    boolean named = args.length > 0 && args[0].equals("--library");
    Args.WithLibrary parsed = Args.withLibrary(args, named ? args.length - 2 : args.length, BenchClient.Library.HC5_ASYNC);
    BenchClient.Library library = parsed.library();
    args = parsed.rest();
    String byHand = library == BenchClient.Library.HC5 ? "naive" : "rst";
    List<String> variants = List.of("timewait", byHand);
    if ((args.length != 1 && args.length != 3)
        || (args.length == 3 && !(variants.contains(args[1]) && variants.contains(args[2])))) {
      throw new IllegalArgumentException("usage: ResetCost [--library hc5-async|hc5|okhttp|reactor-netty] ROUNDS"
          + " [A B, each " + String.join(" or ", variants) + "; by default timewait " + byHand + "]");
    }
    int rounds = Args.atLeast("rounds", args[0], 1);
    String a = args.length == 3 ? args[1] : "timewait";
    String b = args.length == 3 ? args[2] : byHand;
    TcpTable table = TcpTable.system();
    int timeWaitBefore = table.isSupported() ? table.count(TcpState.TIME_WAIT, TcpFilter.any()) : -1;
    Allocation.PairedCost c;
    try (BenchClient clientA = ResetParts.client(library, a); BenchClient clientB = ResetParts.client(library, b)) {
      c = Allocation.pairedCost(library, variantOf(a), variantOf(b), clientA, clientB, WARMUP, rounds, REQUESTS);
    }
    String timeWait = table.isSupported()
        ? timeWaitBefore + " -> " + table.count(TcpState.TIME_WAIT, TcpFilter.any()) : "-";
    System.out.printf(Locale.ROOT,
        "%s %s / %s (timewait: its reset; %s: the naive client with an RST by hand): client CPU per request A/B %s (95%% CI %s),"
            + " A %.2f µs, B %.2f µs, A - B %+.2f µs; bytes per request A/B %s, A %.0f, B %.0f;"
            + " %d rounds of %d sequential requests a side; %d errors; TIME_WAIT on the host before -> after %s%n",
        library.label, a, b, byHand, c.cpuRatio().format(), c.cpuRatio().ci(), c.cpuMicrosA(), c.cpuMicrosB(),
        c.cpuMicrosA() - c.cpuMicrosB(), c.bytesRatio().format(), c.bytesA(), c.bytesB(), rounds, REQUESTS,
        c.errors(), timeWait);
    System.exit(0); // Reactor Netty's event loops are non-daemon threads
  }

  /** The variant a side is built from: timewait's reset, or the naive client (with an RST by hand). */
  private static BenchClient.Variant variantOf(String side) {
    return side.equals("timewait") ? BenchClient.Variant.LIB_RESET : BenchClient.Variant.NAIVE_SHARED;
  }
}
