package dev.timewait.bench;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.ClientClosesFirst;
import dev.timewait.testing.KernelTcp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Measures how often a loopback TIME_WAIT that a test made ends early under CPU contention, and
 * whether {@link KernelTcp#strayResetsSince} always covers it (the notes of {@link KernelTcp}).
 *
 * <p>Each round starts a {@link ClientClosesFirst} on a fresh port, makes 30 connections (the
 * client's FIN first, then the server's), counts the client TIME_WAIT with {@code ss}, and the
 * stray RSTs (not of an abortive close) the host sent meanwhile; a round is short when TIME_WAIT
 * &lt; the distinct tuples, and a bound violation when it is below tuples - stray RSTs. {@code spinners} busy threads keep the cores
 * loaded, and each round spawns one process ({@code nstat -n} where it exists, else {@code true}),
 * which is what raised the rate here. Bounded in rounds and seconds; exits 1 on a violation.
 *
 * <p>Run (Linux only):
 *
 * <pre>
 * ./mvnw -B -q -pl integration-tests -am test-compile
 * java -cp core/target/classes:diagnostics/target/classes:testing/target/classes:integration-tests/target/test-classes:$HOME/.m2/repository/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar \
 *     dev.timewait.bench.LoopbackRstRace [rounds=3000] [seconds=600] [spinners=3]
 * </pre>
 */
public final class LoopbackRstRace {
  private static final int CONNECTIONS = 30;

  private LoopbackRstRace() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 600;
    int spinners = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    if (rounds <= 0 || seconds <= 0 || spinners < 0) {
      throw new IllegalArgumentException("rounds and seconds must be > 0 and spinners >= 0, but were "
          + rounds + ", " + seconds + ", " + spinners);
    }
    if (!KernelCounters.read().supported()) {
      System.out.println("skipped: needs Linux's /proc/net counters");
      return;
    }
    String[] spawn = new java.io.File("/usr/bin/nstat").canExecute()
        ? new String[] {"/usr/bin/nstat", "-n"} : new String[] {"true"};
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> load = new ArrayList<>();
    for (int i = 0; i < spinners; i++) {
      Thread t = new Thread(() -> {
        long x = 0;
        while (!stop.get()) {
          x += System.nanoTime() & 1;
        }
        if (x == 42) {
          System.out.print(""); // keeps the loop from being optimised away
        }
      }, "spinner-" + i);
      t.setDaemon(true);
      t.start();
      load.add(t);
    }
    int done = 0;
    int shortRounds = 0;
    int missing = 0;
    long rstsInShortRounds = 0;
    int violations = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    try {
      while (done < rounds && System.nanoTime() < deadline) {
        try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
          int port = peer.ports().get(0);
          new ProcessBuilder(spawn).start().waitFor();
          KernelCounters before = KernelCounters.read();
          if (peer.run(CONNECTIONS, Duration.ofSeconds(20)) != CONNECTIONS) {
            continue; // a connection failed: not this measure's question
          }
          KernelTcp.awaitClientSettled(port, Duration.ofSeconds(5));
          int timeWait = KernelTcp.clientTimeWait(port);
          int tuples = peer.distinctTuples(port);
          int rsts = KernelTcp.strayResetsSince(before);
          done++;
          if (timeWait < tuples) {
            shortRounds++;
            missing += tuples - timeWait;
            rstsInShortRounds += rsts;
          }
          if (timeWait > tuples || timeWait < tuples - rsts) {
            violations++;
            System.out.printf("violation: port %d, %d tuples, %d TIME_WAIT, %d stray RSTs%n",
                port, tuples, timeWait, rsts);
          }
        }
      }
    } finally {
      stop.set(true);
    }
    System.out.printf("%d rounds of %d connections, %d spinners: %d short (%d TIME_WAIT missing,"
        + " %d stray RSTs sent in those rounds), %d below tuples - stray RSTs%n",
        done, CONNECTIONS, spinners, shortRounds, missing, rstsInShortRounds, violations);
    if (violations > 0) {
      System.exit(1);
    }
  }
}
