package dev.timewait.benchmarks;

import dev.timewait.benchmarks.PairRunner.Leg;
import dev.timewait.benchmarks.PairRunner.Pair;
import dev.timewait.benchmarks.PairRunner.Result;
import dev.timewait.benchmarks.PairRunner.Settings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Runs a pair in fresh JVMs, one after another, as JMH runs a benchmark in forks: what the JIT
 * makes of a JVM's code (inlining, profile pollution by the other clients in the same JVM) differs
 * from JVM to JVM and does not cancel within one JVM's A/B rounds. Each fork runs the pair's warm-up
 * and measured rounds and reports its legs, TIME_WAIT counts and latency histograms on standard
 * output as {@code @@} lines; the parent joins them as if one JVM had run every round. Every second
 * fork builds B's client first: the client built first runs slower in long runs.
 *
 * <p>Not thread-safe: one pair at a time.
 */
final class Forks {
  /** What one fork may take on top of its rounds (JVM start, building the clients, shutting down). */
  private static final long FORK_SLACK_SECONDS = 300;

  private Forks() {}

  /** Runs {@code pair} (index {@code index} in {@link Benchmarks#pairs()}) in {@code forks} fresh JVMs. */
  static Result run(int index, Pair pair, Settings settings, int forks, PrintStream log)
      throws IOException, InterruptedException {
    List<Leg> legsA = new ArrayList<>();
    List<Leg> legsB = new ArrayList<>();
    int[] tw = new int[4];
    boolean counted = true;
    Histogram histogramA = new Histogram();
    Histogram histogramB = new Histogram();
    List<double[]> perFork = new ArrayList<>();
    for (int f = 0; f < forks; f++) {
      boolean bFirst = f % 2 == 1;
      Process process = new ProcessBuilder(command(index, settings, bFirst))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      List<String> lines = Collections.synchronizedList(new ArrayList<>());
      Thread reader = new Thread(() -> {
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = out.readLine()) != null) {
            lines.add(line);
          }
        } catch (IOException e) {
          // the fork was killed: what it wrote so far is kept
        }
      }, "bench-fork-reader");
      reader.setDaemon(true);
      reader.start();
      long bound = boundSeconds(settings);
      if (!process.waitFor(bound, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("fork " + (f + 1) + " of " + pair.label() + " did not end within " + bound + " s");
      }
      reader.join(TimeUnit.SECONDS.toMillis(10));
      List<Leg> forkA = new ArrayList<>();
      List<Leg> forkB = new ArrayList<>();
      synchronized (lines) {
        for (String line : lines) {
          if (!line.startsWith("@@")) {
            log.println(line);
            continue;
          }
          String[] w = line.substring(2).trim().split(" ");
          switch (w[0]) {
            case "LEG" -> (w[1].equals("A") ? forkA : forkB).add(new Leg(Integer.parseInt(w[2]),
                Integer.parseInt(w[3]), w[4].equals("-") ? null : w[4], Long.parseLong(w[5]),
                Double.parseDouble(w[6]), Double.parseDouble(w[7]), Long.parseLong(w[8]), Integer.parseInt(w[9])));
            case "TW" -> {
              for (int i = 0; i < 4; i++) {
                tw[i] += Integer.parseInt(w[1 + i]);
              }
              counted &= Boolean.parseBoolean(w[5]);
            }
            case "HIST" -> (w[1].equals("A") ? histogramA : histogramB).add(Histogram.decode(w[2]));
            default -> throw new IOException("unexpected line from a fork: " + line);
          }
        }
      }
      if (process.exitValue() != 0 || forkA.isEmpty() || forkA.size() != forkB.size()) {
        throw new IOException("fork " + (f + 1) + " of " + pair.label() + " failed (exit " + process.exitValue() + ")");
      }
      Result fork = Result.of(pair, forkA, forkB, new int[4], counted, new Histogram(), new Histogram(), List.of());
      perFork.add(new double[] {fork.throughputRatio().median(), fork.p99Ratio().median()});
      log.println(String.format(Locale.ROOT, "    fork %d of %d (%s built first): throughput A/B %s, p99 A/B %s",
          f + 1, forks, bFirst ? "B" : "A", fork.throughputRatio().format(), fork.p99Ratio().format()));
      legsA.addAll(forkA);
      legsB.addAll(forkB);
    }
    return Result.of(pair, legsA, legsB, tw, counted, histogramA, histogramB, perFork);
  }

  /**
   * The longest a fork may run before it is killed: every round's two legs, plus the longest wait
   * for the host's TIME_WAIT before a round (90 s) and 10 s for its leg's own bound, plus slack. A
   * hung fork is killed, never waited on forever.
   */
  static long boundSeconds(Settings s) {
    long rounds = s.rounds() + s.warmupRounds();
    return rounds * (2 * s.legMillis() / 1000 + 100) + FORK_SLACK_SECONDS;
  }

  /**
   * The fork's side: runs pair {@code index} in this JVM, building B's client first if {@code
   * bFirst} ({@link PairRunner#run(Pair, boolean)}), and reports it on {@code out}.
   */
  static void child(int index, Settings settings, boolean bFirst, PrintStream out)
      throws IOException, InterruptedException {
    Pair pair = Benchmarks.pairs().get(index);
    Result r = new PairRunner(settings, System.err).run(pair, bFirst);
    for (int i = 0; i < r.legsA().size(); i++) {
      out.println(leg("A", r.legsA().get(i)));
      out.println(leg("B", r.legsB().get(i)));
    }
    out.println("@@TW " + r.clientTimeWaitA() + " " + r.serverTimeWaitA() + " " + r.clientTimeWaitB() + " "
        + r.serverTimeWaitB() + " " + r.kernelCounted());
    out.println("@@HIST A " + r.histogramA().encode());
    out.println("@@HIST B " + r.histogramB().encode());
    out.flush();
  }

  private static String leg(String side, Leg leg) {
    return String.format(Locale.ROOT, "@@LEG %s %d %d %s %d %s %s %d %d", side, leg.requests(), leg.errors(),
        leg.firstError() == null ? "-" : leg.firstError().replaceAll("\\s+", "_"), leg.elapsedNanos(),
        Double.toString(leg.p50Ms()), Double.toString(leg.p99Ms()), leg.processCpuNanos(), leg.connections());
  }

  /**
   * {@code java} with this JVM's options and class path, running the child for pair {@code index}
   * (building B's client first if {@code bFirst}).
   */
  private static List<String> command(int index, Settings s, boolean bFirst) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!option.startsWith("-XX:StartFlightRecording") && !option.startsWith("-agentlib:jdwp")) {
        command.add(option);
      }
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Benchmarks.class.getName());
    command.add("--child");
    command.add(Integer.toString(index));
    if (bFirst) {
      command.add("--child-b-first");
    }
    command.add("--child-settings");
    command.add(s.rounds() + "," + s.warmupRounds() + "," + s.legMillis() + "," + s.concurrency() + ","
        + s.poolSize() + "," + s.maxPerConnectionRequestsPerLeg() + "," + s.maxPooledRequestsPerLeg());
    return command;
  }
}
