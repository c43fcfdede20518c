package dev.timewait.testsupport;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * The build's console report of a module's tests, registered through {@code META-INF/services}
 * (every module has this unpublished module on its test class path): one line per module in the form
 * {@code core: 158 passed, 0 failed, 2 skipped in 41 s} (the module's artifactId less {@code timewait-}: one
 * word, so that the line is a plain closing line CI tools recognise; the time is the test run's wall
 * clock, so that CI's 30 minutes can be kept by looking where they go), then each skipped test with its reason
 * (the invocations of one parameterized test skipped for one reason share a line that counts them:
 * on JDK 17 every virtual-thread case skips for the same reason), and each failure at once with its
 * stack trace. Surefire keeps its per-class lines and the tests'
 * own output off the console ({@code printSummary=false}, {@code redirectTestOutputToFile}: that
 * output is in {@code target/surefire-reports/*-output.txt}), so a green build stays short while
 * a skip is never silent and a failure is never only in a file.
 *
 * <p>Each test class's wall-clock time, slowest first, goes to {@code target/test-times-jdkN.txt} (N:
 * the JDK's feature release, as CI runs a suite on two JDKs), not to the console; a later run on
 * the same JDK replaces the times of the classes it ran and keeps the others' (CI's compatibility
 * step runs a few classes of the adapters again).
 *
 * <p>Writes to the process's own standard error, past the stream Surefire captures, and only when
 * the build names the module (system property {@value #MODULE}): a run in an IDE prints nothing.
 *
 * <p>Thread-safe: under parallel execution JUnit may call a listener from several threads at once,
 * so its methods are synchronized.
 */
public final class ConsoleTestReport implements TestExecutionListener {
  /** The system property, set by the parent POM's Surefire configuration, naming the module. */
  public static final String MODULE = "timewait.module";
  /** The most lines of one failure's stack trace printed; the report file has all of it. */
  static final int MAX_TRACE_LINES = 40;

  private final String module = shortName(System.getProperty(MODULE));
  private final PrintStream console =
      new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
  /** Skip lines in the order met, keyed by test (less its invocation) and reason; the value counts them. */
  private final Map<String, Skip> skipped = new LinkedHashMap<>();
  private int skips;
  private int passed;
  private int failed;
  private TestPlan plan;
  private long planStart;
  /** Start times of the test classes running now, by class name (nanoTime). */
  private final Map<String, Long> classStarts = new HashMap<>();
  /** Each finished test class's wall-clock time in ms, by class name. */
  private final Map<String, Long> classMillis = new HashMap<>();

  @Override
  public synchronized void testPlanExecutionStarted(TestPlan testPlan) {
    plan = testPlan;
    planStart = System.nanoTime();
  }

  @Override
  public synchronized void executionStarted(TestIdentifier test) {
    className(test).ifPresent(c -> classStarts.put(c, System.nanoTime()));
  }

  @Override
  public synchronized void executionSkipped(TestIdentifier test, String reason) {
    if (module == null) {
      return;
    }
    // A skipped container skips every test in it: one line for the container says it.
    skip(test, reason);
  }

  @Override
  public synchronized void executionFinished(TestIdentifier test, TestExecutionResult result) {
    className(test).ifPresent(c -> {
      Long started = classStarts.remove(c);
      if (started != null) {
        classMillis.merge(c, (System.nanoTime() - started) / 1_000_000, Long::sum);
      }
    });
    if (module == null) {
      return;
    }
    switch (result.getStatus()) {
      case SUCCESSFUL -> {
        if (test.isTest()) {
          passed++;
        }
      }
      case ABORTED -> skip(test, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
      case FAILED -> {
        failed++;
        console.println(module + ": FAILED " + name(test, true));
        result.getThrowable().ifPresent(this::printTrace);
      }
    }
  }

  @Override
  public synchronized void testPlanExecutionFinished(TestPlan testPlan) {
    if (module == null) {
      return;
    }
    // The plain closing line: "NAME: N passed, N failed, N skipped in N s".
    long seconds = Math.round((System.nanoTime() - planStart) / 1e9);
    console.println(module + ": " + passed + " passed, " + failed + " failed, " + skips + " skipped in "
        + seconds + " s");
    for (Skip s : skipped.values()) {
      console.println("  skipped " + s.line());
    }
    writeClassTimes();
  }

  /**
   * target/test-times-jdkN.txt: "ms class" per line, slowest first, this run's times over an
   * earlier run's; a failure to read or write is only printed.
   */
  private void writeClassTimes() {
    Path file = Path.of("target", "test-times-jdk" + Runtime.version().feature() + ".txt");
    Map<String, Long> merged = new HashMap<>();
    try {
      if (Files.isRegularFile(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          String[] parts = line.split(" ", 2);
          if (parts.length == 2 && parts[0].matches("[0-9]+")) {
            merged.put(parts[1], Long.parseLong(parts[0]));
          }
        }
      }
    } catch (IOException e) {
      console.println(module + ": could not read " + file.toAbsolutePath() + ": " + e);
    }
    merged.putAll(classMillis);
    List<Map.Entry<String, Long>> times = new ArrayList<>(merged.entrySet());
    times.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Long> t : times) {
      lines.add(t.getValue() + " " + t.getKey());
    }
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      console.println(module + ": could not write " + file.toAbsolutePath() + ": " + e);
    }
  }

  /** The class's name for a test class's container (top-level or nested), empty for anything else. */
  private static Optional<String> className(TestIdentifier test) {
    return test.getSource().filter(ClassSource.class::isInstance).map(s -> ((ClassSource) s).getClassName());
  }

  private void skip(TestIdentifier test, String reason) {
    skips++;
    String why = oneLine(reason);
    String test1 = name(test, false);
    skipped.computeIfAbsent(test1 + ": " + why, k -> new Skip(test1, why)).add(name(test, true));
  }

  /** One skip line: a test's skipped invocations that share a reason. */
  private static final class Skip {
    private final String test;
    private final String reason;
    private String first;
    private int count;

    Skip(String test, String reason) {
      this.test = test;
      this.reason = reason;
    }

    void add(String invocation) {
      if (count++ == 0) {
        first = invocation;
      }
    }

    /** The one invocation's full name, or the test's with how many invocations skipped. */
    String line() {
      return (count == 1 ? first : test + " (" + count + " invocations)") + ": " + reason;
    }
  }

  private void printTrace(Throwable failure) {
    java.io.StringWriter text = new java.io.StringWriter();
    failure.printStackTrace(new java.io.PrintWriter(text));
    String[] lines = text.toString().split("\\R");
    for (int i = 0; i < lines.length && i < MAX_TRACE_LINES; i++) {
      console.println("    " + lines[i]);
    }
    if (lines.length > MAX_TRACE_LINES) {
      console.println("    ... " + (lines.length - MAX_TRACE_LINES) + " more lines in target/surefire-reports");
    }
  }

  /**
   * {@code Class > method [display name]} for a method (the display name only with
   * {@code invocationName} and for an invocation), the display name otherwise.
   */
  private String name(TestIdentifier test, boolean invocationName) {
    Optional<TestSource> source = test.getSource();
    if (source.isPresent() && source.get() instanceof MethodSource m) {
      String cls = m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1);
      String method = m.getMethodName() + "(" + m.getMethodParameterTypes() + ")";
      String shown = test.getDisplayName();
      // Parameterized and repeated invocations: the invocation's name says which one.
      boolean invocation = plan != null && plan.getParent(test).flatMap(TestIdentifier::getSource)
          .filter(MethodSource.class::isInstance).isPresent();
      return cls + " > " + method + (invocation && invocationName ? " " + shown : "");
    }
    if (source.isPresent() && source.get() instanceof ClassSource c) {
      return c.getClassName().substring(c.getClassName().lastIndexOf('.') + 1);
    }
    return test.getDisplayName();
  }

  private static String shortName(String artifactId) {
    return artifactId == null ? null : artifactId.replaceFirst("^timewait-", "");
  }

  private static String oneLine(String text) {
    return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ");
  }
}
