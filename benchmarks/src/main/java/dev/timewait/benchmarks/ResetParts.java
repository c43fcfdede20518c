package dev.timewait.benchmarks;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelOption;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;
import reactor.netty.resources.ConnectionProvider;

/**
 * Reactor Netty's pair 3 (reset / naive, one shared client without a pool) taken apart: raw
 * Reactor Netty without a pool against itself with one part of what timewait's reset configuration
 * does, written by hand through the same public hooks, and timewait's reset itself. In one JVM, A and
 * B take turns in legs of 500 ms at concurrency 4 (3 warm-up rounds, then {@code ROUNDS}), each
 * against its own server; prints the median of the rounds' A/B request rates with its quartiles,
 * and the CPU time per request of the server's threads and of all other threads (the client's
 * event loops and callers), per side.
 *
 * <pre>
 * for v in naive rst hooks rst+hooks timewait; do
 *   java -cp benchmarks/target/timewait-benchmarks.jar dev.timewait.benchmarks.ResetParts $v 20
 * done
 * </pre>
 *
 * <p>The variants (A; B is always {@code naive}): {@code naive} (the A/A control), {@code rst}
 * (SO_LINGER(0) set as each channel is initialised: the close is an RST, as timewait's),
 * {@code hooks} (timewait's hooks doing nothing of their own: a client attribute, a channel
 * attribute, two pass-through handlers where timewait adds its socket and exchange handlers, the
 * discard hook through {@code mapConnect}, and {@code ALLOW_HALF_CLOSURE}), {@code rst+hooks} (both),
 * {@code timewait} (timewait's reset). A diagnostic for issue 19 (docs/benchmarks.md, session 22);
 * one JVM per run, so alternate several.
 */
final class ResetParts {
  private static final String[] VARIANTS = {"naive", "rst", "hooks", "rst+hooks", "timewait"};
  private static final AttributeKey<Object> CLIENT_KEY = AttributeKey.valueOf("timewait.bench.client");
  private static final AttributeKey<Object> CHANNEL_KEY = AttributeKey.valueOf("timewait.bench.channel");
  private static final int WARMUP_ROUNDS = 3;

  private ResetParts() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !List.of(VARIANTS).contains(args[0])) {
      throw new IllegalArgumentException("usage: ResetParts " + String.join("|", VARIANTS) + " ROUNDS");
    }
    int rounds = Args.atLeast("rounds", args[1], 1);
    // [side][server CPU ns, other CPU ns, requests]
    long[][] totals = new long[2][3];
    List<Double> ratios = new ArrayList<>();
    try (BenchClient a = client(args[0]); BenchClient b = client("naive");
        BenchServer serverA = new BenchServer(); BenchServer serverB = new BenchServer()) {
      for (int i = 0; i < WARMUP_ROUNDS + rounds; i++) {
        long[][] into = i < WARMUP_ROUNDS ? new long[2][3] : totals; // warm-up: thrown away
        int ra;
        int rb;
        if (i % 2 == 0) {
          ra = leg(a, serverA, into[0]);
          rb = leg(b, serverB, into[1]);
        } else {
          rb = leg(b, serverB, into[1]);
          ra = leg(a, serverA, into[0]);
        }
        if (i >= WARMUP_ROUNDS && rb > 0) {
          ratios.add((double) ra / rb);
        }
      }
    }
    Stats.Spread rate = Stats.Spread.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    System.out.printf(Locale.ROOT,
        "reactor-netty %s / naive: request rate A/B median %.3f (quartiles %.3f, %.3f) over %d rounds"
            + " | CPU µs per request: server A %.1f, B %.1f; client and the rest A %.1f, B %.1f%n",
        args[0], rate.median(), rate.p25(), rate.p75(), ratios.size(),
        perRequest(totals[0], 0), perRequest(totals[1], 0), perRequest(totals[0], 1), perRequest(totals[1], 1));
    System.exit(0); // Reactor Netty's event loops are non-daemon threads
  }

  private static double perRequest(long[] side, int which) {
    return side[2] == 0 ? 0 : side[which] / 1e3 / side[2];
  }

  /**
   * One leg; adds the servers' threads' CPU, the other threads' and the requests to {@code into}
   * (per thread, as {@link Allocation#growth} counts it: a thread that ended meanwhile takes
   * nothing away).
   */
  private static int leg(BenchClient client, BenchServer server, long[] into) throws InterruptedException {
    // The client's readings sit closest to the leg, so the other readings' work is not in them.
    Map<Long, Long> serverBefore = Allocation.cpu(false);
    Map<Long, Long> clientBefore = Allocation.cpu(true);
    int[] r = CpuProfile.drive(client, server.uri(), 4, Duration.ofMillis(500));
    Map<Long, Long> clientAfter = Allocation.cpu(true);
    into[0] += Allocation.growth(serverBefore, Allocation.cpu(false));
    into[1] += Allocation.growth(clientBefore, clientAfter);
    into[2] += r[0];
    return r[0];
  }

  private static BenchClient client(String variant) {
    if (variant.equals("timewait")) {
      return BenchClient.of(BenchClient.Library.REACTOR_NETTY, BenchClient.Variant.LIB_RESET, 4);
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
