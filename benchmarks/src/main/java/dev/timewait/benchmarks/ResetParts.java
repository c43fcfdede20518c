package dev.timewait.benchmarks;

import dev.timewait.diagnostics.TcpTable;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelOption;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;
import reactor.netty.resources.ConnectionProvider;

/**
 * Pair 3 (reset / naive, one shared client without keep-alive) taken apart: the library's naive
 * client against itself with one part of what timewait's reset configuration does, written by hand
 * through the same public hooks, and timewait's reset itself. In one JVM, A and B take turns in
 * legs of 500 ms at concurrency 4 (3 warm-up rounds, then {@code ROUNDS}), each against its own
 * server, new every round; prints the median of the rounds' A/B request rates with its quartiles,
 * the CPU time per request of the server's threads and of all other threads (the client's event
 * loops and callers), per side, and the client TIME_WAIT each side left towards its servers (the
 * kernel's table, summed over the measured rounds).
 *
 * <pre>
 * for v in naive rst hooks rst+hooks timewait; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.ResetParts $v 20
 * done
 * for v in naive rst timewait; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.ResetParts --library hc5-async $v 20
 * done
 * </pre>
 *
 * <p>The variants (A; B is always {@code naive}): {@code naive} (the A/A control), {@code rst}
 * (SO_LINGER(0) on every socket: the close is an RST, as timewait's; Reactor Netty: set as each
 * channel is initialised, where timewait sets it; HttpClient 5 async and OkHttp: through their own
 * public hooks, {@link BenchClient#naiveSharedWithRst}), {@code timewait} (timewait's reset), and
 * for Reactor Netty (the default library) also {@code hooks} (timewait's hooks doing nothing of
 * their own: a client attribute, a channel attribute, two pass-through handlers where timewait adds
 * its socket and exchange handlers, the discard hook through {@code mapConnect} that timewait used
 * until session 25 (it now has one subscriber of its own per request there), and {@code
 * ALLOW_HALF_CLOSURE}) and {@code rst+hooks} (both). HttpClient 5 classic has {@code naive} and
 * {@code timewait} only: its naive client already closes with an RST. A diagnostic for issue 19
 * (docs/benchmarks.md, sessions 22 and 23); one JVM per run, so alternate several.
 */
final class ResetParts {
  private static final String[] VARIANTS = {"naive", "rst", "hooks", "rst+hooks", "timewait"};
  private static final AttributeKey<Object> CLIENT_KEY = AttributeKey.valueOf("timewait.bench.client");
  private static final AttributeKey<Object> CHANNEL_KEY = AttributeKey.valueOf("timewait.bench.channel");
  private static final int WARMUP_ROUNDS = 3;

  private ResetParts() {}

  public static void main(String[] args) throws Exception {
    Args.WithLibrary parsed = Args.withLibrary(args, 2, BenchClient.Library.REACTOR_NETTY);
    BenchClient.Library library = parsed.library();
    args = parsed.rest();
    if (args.length != 2 || !List.of(VARIANTS).contains(args[0])) {
      throw new IllegalArgumentException("usage: ResetParts [--library reactor-netty|hc5|hc5-async|okhttp] "
          + String.join("|", VARIANTS) + " ROUNDS");
    }
    String variant = args[0];
    if (!variantsOf(library).contains(variant)) {
      throw new IllegalArgumentException("variant " + variant + " is not one of " + library.label + "'s: "
          + String.join("|", variantsOf(library)));
    }
    int rounds = Args.atLeast("rounds", args[1], 1);
    // [side][server CPU ns, other CPU ns, requests]
    long[][] totals = new long[2][3];
    List<Double> ratios = new ArrayList<>();
    // {client A, server A, client B, server B}, as PairRunner.addTimeWait adds them
    int[] timeWait = TcpTable.system().isSupported() ? new int[4] : null;
    try (BenchClient a = client(library, variant); BenchClient b = client(library, "naive")) {
      for (int i = 0; i < WARMUP_ROUNDS + rounds; i++) {
        long[][] into = i < WARMUP_ROUNDS ? new long[2][3] : totals; // warm-up: thrown away
        int ra;
        int rb;
        // Fresh servers every round, as the pair harness's connection-per-request pairs: a naive leg
        // leaves a client TIME_WAIT per connection towards its server's port, and connect() walks
        // past the ports those hold, so one port kept for the whole run slows the naive side more
        // with every round (14,116 TIME_WAIT towards one port after 20 rounds, session 23).
        try (BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer()) {
          if (i % 2 == 0) {
            ra = leg(a, serverA, into[0]);
            rb = leg(b, serverB, into[1]);
          } else {
            rb = leg(b, serverB, into[1]);
            ra = leg(a, serverA, into[0]);
          }
          if (timeWait != null && i >= WARMUP_ROUNDS) {
            PairRunner.addTimeWait(timeWait, serverA.port(), serverB.port());
          }
        }
        if (i >= WARMUP_ROUNDS && rb > 0) {
          ratios.add((double) ra / rb);
        }
      }
    }
    Stats.Spread rate = Stats.Spread.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    System.out.printf(Locale.ROOT,
        "%s %s / naive: request rate A/B median %.3f (quartiles %.3f, %.3f) over %d rounds"
            + " | CPU µs per request: server A %.1f, B %.1f; client and the rest A %.1f, B %.1f"
            + " | client TIME_WAIT A %s, B %s%n",
        library.label, variant, rate.median(), rate.p25(), rate.p75(), ratios.size(),
        perRequest(totals[0], 0), perRequest(totals[1], 0), perRequest(totals[0], 1), perRequest(totals[1], 1),
        timeWait == null ? "-" : timeWait[0], timeWait == null ? "-" : timeWait[2]);
    System.exit(0); // Reactor Netty's event loops are non-daemon threads
  }

  private static double perRequest(long[] side, int which) {
    return side[2] == 0 ? 0 : side[which] / 1e3 / side[2];
  }

  /**
   * One leg; adds the servers' threads' CPU, the other threads' and the requests to {@code into}
   * (per thread, as {@link Allocation#growth} counts it: a thread that ended meanwhile takes
   * nothing away). The calling threads end with the leg: each adds its own CPU as it ends (before
   * session 23 they were not counted, so the client CPU of session 22's runs is the event loops'
   * and other lasting threads' only).
   */
  private static int leg(BenchClient client, BenchServer server, long[] into) throws InterruptedException {
    // The client's readings sit closest to the leg, so the other readings' work is not in them.
    Map<Long, Long> serverBefore = Allocation.cpu(false);
    Map<Long, Long> clientBefore = Allocation.cpu(true);
    LongAdder callers = new LongAdder();
    int[] r = CpuProfile.drive(client, server.uri(), 4, Duration.ofMillis(500), callers);
    Map<Long, Long> clientAfter = Allocation.cpu(true);
    into[0] += Allocation.growth(serverBefore, Allocation.cpu(false));
    into[1] += Allocation.growth(clientBefore, clientAfter) + callers.sum();
    into[2] += r[0];
    return r[0];
  }

  private static List<String> variantsOf(BenchClient.Library library) {
    return switch (library) {
      case REACTOR_NETTY -> List.of(VARIANTS);
      case HC5 -> List.of("naive", "timewait");
      case HC5_ASYNC, OKHTTP -> List.of("naive", "rst", "timewait");
    };
  }

  static BenchClient client(BenchClient.Library library, String variant) {
    if (variant.equals("timewait")) {
      return BenchClient.of(library, BenchClient.Variant.LIB_RESET, 4);
    }
    if (library != BenchClient.Library.REACTOR_NETTY) {
      return variant.equals("rst") ? BenchClient.naiveSharedWithRst(library, 4)
          : BenchClient.of(library, BenchClient.Variant.NAIVE_SHARED, 4);
    }
    reactor.netty.http.client.HttpClient client = BenchClient.reactorNetty(ConnectionProvider.newConnection());
    boolean rst = variant.equals("rst") || variant.equals("rst+hooks");
    boolean hooks = variant.equals("hooks") || variant.equals("rst+hooks");
    if (hooks) {
      client = client.attr(CLIENT_KEY, new Object())
          .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .mapConnect(exchange -> exchange.doOnDiscard(Connection.class, Connection::dispose));
    }
    if (rst || hooks) {
      client = client.doOnChannelInit((observer, channel, remote) -> {
        if (rst) {
          channel.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        if (hooks) {
          channel.attr(CHANNEL_KEY).set(new Object());
          channel.pipeline().addFirst("bench.socket", new ChannelDuplexHandler());
          if (channel.pipeline().get(NettyPipeline.HttpCodec) != null) {
            channel.pipeline().addAfter(NettyPipeline.HttpCodec, "bench.exchange", new ChannelDuplexHandler());
          }
        }
      });
    }
    return new BenchClient.ReactorNetty(client, null, false, false);
  }
}
