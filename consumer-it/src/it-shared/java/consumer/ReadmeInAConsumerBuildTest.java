package consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Runs in a consumer's own build (consumer-it), on the classpath Maven resolved for that consumer
 * from the published POMs: the root README's client snippets compile and make their request, and
 * timewait's log lines reach the consumer's SLF4J binding or provider, on the slf4j-api version
 * the consumer's build is expected to pick.
 */
class ReadmeInAConsumerBuildTest {
  private static final String PLACEHOLDER = "\"http://lb.internal/ping\"";
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  @Test
  void theReadmeClientSnippetsRunAndTheLibraryLogsReachTheBinding() throws Exception {
    List<String> blocks = clientSnippets(Paths.get(System.getProperty("timewait.readme")));
    // HttpClient 5 classic, async and OkHttp at least; fewer means the README's form changed.
    assertTrue(blocks.size() >= 3, "client snippets found in the README: " + blocks.size());

    AtomicInteger served = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.createContext("/ping", exchange -> {
      byte[] body = "pong".getBytes(StandardCharsets.UTF_8);
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
      served.incrementAndGet();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/ping";
      Path classes = Files.createDirectories(Paths.get("target", "snippet-classes"));
      try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
          getClass().getClassLoader())) {
        for (int i = 0; i < blocks.size(); i++) {
          compile(i, blocks.get(i), classes);
          loader.loadClass("snippets.Snippet" + i).getMethod("run", String.class).invoke(null, url);
        }
      }
    } finally {
      server.stop(0);
    }
    assertTrue(served.get() >= blocks.size(), "requests served: " + served.get());

    String factory = LoggerFactory.getILoggerFactory().getClass().getName();
    assertFalse(factory.contains("NOP") || factory.contains("Substitute"),
        "SLF4J found no binding or provider: " + factory);
    assertEquals(System.getProperty("consumer.expectedSlf4jApi"), slf4jApiOnTheClasspath(),
        "the slf4j-api version this consumer's build resolved");
    String log = Files.readString(Paths.get("target", "consumer-slf4j.log"), StandardCharsets.UTF_8);
    assertTrue(log.contains("dev.timewait.httpclient5."), "HttpClient 5 adapter lines in the log:\n" + log);
    assertTrue(log.contains("dev.timewait.okhttp."), "OkHttp adapter lines in the log:\n" + log);
  }

  /** The README's java blocks that call its placeholder address: statements, not classes. */
  private static List<String> clientSnippets(Path readme) throws IOException {
    List<String> blocks = new ArrayList<>();
    Matcher m = JAVA_BLOCK.matcher(Files.readString(readme, StandardCharsets.UTF_8));
    while (m.find()) {
      String block = m.group(1);
      if (block.contains(PLACEHOLDER) && !block.matches("(?s).*^\\s*(public |final )*class .*")) {
        blocks.add(block);
      }
    }
    return blocks;
  }

  private static void compile(int index, String block, Path classes) throws IOException {
    String source = "package snippets;\n"
        + "import dev.timewait.*;\n"
        + "import dev.timewait.httpclient5.*;\n"
        + "import dev.timewait.okhttp.*;\n"
        + "import dev.timewait.reactornetty.*;\n"
        + "import java.time.Duration;\n"
        + "import java.util.concurrent.TimeUnit;\n"
        + "import okhttp3.*;\n"
        + "import org.apache.hc.client5.http.async.methods.*;\n"
        + "import org.apache.hc.client5.http.classic.methods.*;\n"
        + "import org.apache.hc.client5.http.impl.async.*;\n"
        + "import org.apache.hc.client5.http.impl.classic.*;\n"
        + "import org.apache.hc.core5.http.io.entity.*;\n"
        + "import reactor.netty.http.client.HttpClient;\n"
        + "public class Snippet" + index + " {\n"
        + "  public static void run(String url) throws Exception {\n"
        + block.replace(PLACEHOLDER, "url")
        + "  }\n}\n";
    Path file = Files.createDirectories(classes.resolveSibling("snippet-sources"))
        .resolve("Snippet" + index + ".java");
    Files.writeString(file, source, StandardCharsets.UTF_8);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", testClassPath(),
        "-proc:none", file.toString());
    assertEquals(0, rc, "javac on README snippet " + index + " (" + file + "):\n" + source);
  }

  /** Surefire runs tests from a manifest-only jar; the real class path is in this property. */
  private static String testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null ? cp : System.getProperty("java.class.path");
  }

  private static String slf4jApiOnTheClasspath() {
    for (String entry : testClassPath().split(File.pathSeparator)) {
      String name = Paths.get(entry).getFileName().toString();
      if (name.startsWith("slf4j-api-") && name.endsWith(".jar")) {
        return name.substring("slf4j-api-".length(), name.length() - ".jar".length());
      }
    }
    return "none";
  }
}
