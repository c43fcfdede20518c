package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.testing.KernelTcp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Every {@code java} block of every README (the root one and each module's), read from the
 * README files themselves so that a snippet cannot drift from what the test checks: each block
 * compiles, and each block that makes a request runs against WireMock and leaves no client
 * TIME_WAIT. A block of statements runs as a method body; a block that declares a test class (the
 * JUnit 5 example) runs through the Jupiter engine.
 *
 * <p>What the blocks leave out is supplied here, and only that: the imports ({@link #IMPORTS}),
 * and for statement blocks the variables {@code url} (a WireMock URL) and {@code mySslContext}.
 * The README's placeholder address {@code "http://lb.internal/ping"} is replaced by {@code url}.
 * Blocks that make no request (they only build a client) are compiled, not run.
 */
@WireMockTest
class ReadmeSnippetsTest {
  /** The README's placeholder destination; statement blocks get the WireMock URL instead. */
  private static final String PLACEHOLDER = "\"http://lb.internal/ping\"";

  /** What a README block may use without importing it: the types the READMEs show. */
  private static final List<String> IMPORTS = List.of(
      "import static com.github.tomakehurst.wiremock.client.WireMock.get;",
      "import static com.github.tomakehurst.wiremock.client.WireMock.ok;",
      "import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;",
      "import static dev.timewait.CloseStrategy.Kind.RESET;",
      "import static org.assertj.core.api.Assertions.assertThat;",
      "import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;",
      "import com.github.tomakehurst.wiremock.junit5.WireMockTest;",
      "import dev.timewait.CloseAccounting;",
      "import dev.timewait.CloseStats;",
      "import dev.timewait.CloseStrategy;",
      "import dev.timewait.PooledKeepAlive;",
      "import dev.timewait.httpclient5.HttpClient5Options;",
      "import dev.timewait.httpclient5.TimeWaitHttpClient5;",
      "import dev.timewait.junit5.GuardTimeWait;",
      "import dev.timewait.junit5.TimeWaitClient;",
      "import dev.timewait.micrometer.TimeWaitMetrics;",
      "import dev.timewait.okhttp.OkHttpOptions;",
      "import dev.timewait.okhttp.TimeWaitOkHttp;",
      "import dev.timewait.reactornetty.TimeWaitReactorNetty;",
      "import io.micrometer.core.instrument.MeterRegistry;",
      "import io.micrometer.core.instrument.simple.SimpleMeterRegistry;",
      "import java.io.IOException;",
      "import java.time.Duration;",
      "import java.util.concurrent.TimeUnit;",
      "import javax.net.ssl.SSLContext;",
      "import okhttp3.OkHttpClient;",
      "import okhttp3.Request;",
      "import okhttp3.Response;",
      "import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;",
      "import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;",
      "import org.apache.hc.client5.http.classic.methods.HttpGet;",
      "import org.apache.hc.client5.http.config.ConnectionConfig;",
      "import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;",
      "import org.apache.hc.client5.http.impl.async.HttpAsyncClients;",
      "import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;",
      "import org.apache.hc.client5.http.impl.classic.HttpClients;",
      "import org.apache.hc.core5.http.io.entity.EntityUtils;",
      "import org.apache.hc.core5.util.Timeout;",
      "import org.junit.jupiter.api.Test;",
      "import reactor.netty.http.client.HttpClient;");

  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern TOP_LEVEL_CLASS =
      Pattern.compile("^(?:public |final )*class (\\w+)", Pattern.MULTILINE);

  @TestFactory
  Stream<DynamicTest> everyJavaBlockOfEveryReadmeCompilesAndRuns(
      WireMockRuntimeInfo wm, @TempDir Path work) throws IOException {
    wm.getWireMock().register(get(urlEqualTo("/ping")).willReturn(aResponse().withBody("pong")));
    int port = wm.getHttpPort();
    String url = "http://127.0.0.1:" + port + "/ping";

    List<Snippet> snippets = readmeSnippets(repositoryRoot());
    // The root README alone has four; a regex that stopped matching must not pass silently.
    assertThat(snippets).hasSizeGreaterThanOrEqualTo(8);
    Map<Snippet, List<String>> errors = compile(snippets, work);
    ClassLoader loader = new URLClassLoader(
        new URL[] {work.resolve("classes").toUri().toURL()}, getClass().getClassLoader());

    List<DynamicTest> tests = new ArrayList<>();
    for (Snippet s : snippets) {
      tests.add(DynamicTest.dynamicTest(s.where() + " compiles", () ->
          assertThat(errors.get(s)).as("javac errors in %s", s.where()).isEmpty()));
      if (s.makesRequests()) {
        tests.add(DynamicTest.dynamicTest(s.where() + " runs and leaves no client TIME_WAIT", () -> {
          assertThat(errors.get(s)).as("it compiles").isEmpty();
          KernelTcp.assumeReadable();
          if (s.testClass() != null) {
            runTestClass(loader.loadClass(s.className()));
          } else {
            // WireMock's port is random, and a client of an earlier test may have closed first
            // towards the same port number within the last minute: that TIME_WAIT only expires.
            // What the snippet must not do is add any.
            int before = clientTimeWait(port);
            runStatements(loader.loadClass(s.className()), url);
            KernelTcp.awaitClientSettled(port, Duration.ofSeconds(3));
            assertThat(clientTimeWait(port))
                .as("client TIME_WAIT towards WireMock after %s (%d before it)", s.where(), before)
                .isLessThanOrEqualTo(before);
          }
        }));
      }
    }
    return tests.stream();
  }

  private static int clientTimeWait(int port) {
    return TcpTable.system().count(TcpState.TIME_WAIT, TcpFilter.remotePort(port));
  }

  /** One {@code java} block: where it is, and the source it becomes. */
  private record Snippet(String where, int index, String block, String testClass) {
    String packageName() {
      return "readme.s" + index;
    }

    String className() {
      return packageName() + "." + (testClass != null ? testClass : "Snippet");
    }

    /** Whether running it needs the server: it calls the README's destination (or WireMock's). */
    boolean makesRequests() {
      return testClass != null || block.contains(PLACEHOLDER) || block.matches("(?s).*\\burl\\b.*");
    }

    /** The lines before the block's first line in the generated source. */
    int preambleLines() {
      return 1 + IMPORTS.size() + (testClass != null ? 0 : 2);
    }

    String source() {
      StringBuilder src = new StringBuilder("package " + packageName() + ";\n");
      IMPORTS.forEach(i -> src.append(i).append('\n'));
      if (testClass != null) {
        return src.append(block).toString();
      }
      src.append("public class Snippet {\n")
          .append("  public static void run(String url, SSLContext mySslContext) throws Exception {\n")
          .append(block.replace(PLACEHOLDER, "url"))
          .append("  }\n}\n");
      return src.toString();
    }
  }

  private static List<Snippet> readmeSnippets(Path root) throws IOException {
    List<Path> readmes = new ArrayList<>();
    readmes.add(root.resolve("README.md"));
    try (Stream<Path> modules = Files.list(root)) {
      readmes.addAll(modules.map(m -> m.resolve("README.md")).filter(Files::isRegularFile).sorted()
          .collect(Collectors.toList()));
    }
    List<Snippet> snippets = new ArrayList<>();
    for (Path readme : readmes) {
      String text = Files.readString(readme, StandardCharsets.UTF_8);
      Matcher m = JAVA_BLOCK.matcher(text);
      while (m.find()) {
        int line = (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count() + 2;
        Matcher cls = TOP_LEVEL_CLASS.matcher(m.group(1));
        snippets.add(new Snippet(root.relativize(readme) + ":" + line, snippets.size(), m.group(1),
            cls.find() ? cls.group(1) : null));
      }
    }
    return snippets;
  }

  /** Compiles every snippet in one javac run; errors by snippet, with README line numbers. */
  private static Map<Snippet, List<String>> compile(List<Snippet> snippets, Path work)
      throws IOException {
    Path sources = Files.createDirectories(work.resolve("src"));
    Path classes = Files.createDirectories(work.resolve("classes"));
    Map<Path, Snippet> byFile = new TreeMap<>();
    for (Snippet s : snippets) {
      Path file = sources.resolve(s.className().replace('.', '/') + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, s.source(), StandardCharsets.UTF_8);
      byFile.put(file.toAbsolutePath(), s);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT,
        StandardCharsets.UTF_8)) {
      // Surefire may hide the class path in a manifest-only jar; it publishes the real one here.
      String classPath = System.getProperty("surefire.test.class.path",
          System.getProperty("java.class.path"));
      javac.getTask(null, files, diagnostics,
          List.of("--release", "17", "-proc:none", "-classpath", classPath,
              "-d", classes.toString()),
          null, files.getJavaFileObjectsFromPaths(byFile.keySet())).call();
    }
    Map<Snippet, List<String>> errors = new TreeMap<>((a, b) -> Integer.compare(a.index(), b.index()));
    snippets.forEach(s -> errors.put(s, new ArrayList<>()));
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() != Diagnostic.Kind.ERROR) {
        continue;
      }
      Snippet s = d.getSource() == null ? null
          : byFile.get(Path.of(d.getSource().toUri()).toAbsolutePath());
      if (s == null) {
        snippets.forEach(x -> errors.get(x).add(d.getMessage(Locale.ROOT)));
        continue;
      }
      String[] where = s.where().split(":");
      long readmeLine = Long.parseLong(where[1]) + d.getLineNumber() - 1 - s.preambleLines();
      errors.get(s).add(where[0] + ":" + readmeLine + ": " + d.getMessage(Locale.ROOT));
    }
    return errors;
  }

  private static void runStatements(Class<?> snippet, String url) throws Throwable {
    Method run = snippet.getMethod("run", String.class, SSLContext.class);
    try {
      run.invoke(null, url, SSLContext.getDefault());
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void runTestClass(Class<?> testClass) {
    EngineExecutionResults results =
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
    List<String> failures = results.allEvents().failed().stream()
        .map(e -> e.getRequiredPayload(TestExecutionResult.class).getThrowable()
            .map(Throwable::toString).orElse(e.toString()))
        .collect(Collectors.toList());
    assertThat(failures).as("failures of the README's test class").isEmpty();
    results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1));
  }

  /** The directory with the root README: the examples module's parent when run by Maven. */
  private static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("README.md")) && Files.isDirectory(dir.resolve("bom"))) {
        return dir;
      }
    }
    throw new UncheckedIOException(new IOException(
        "no README.md with a bom directory beside it above " + Path.of("").toAbsolutePath()));
  }
}
