package dev.timewait.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The library never weakens TLS: no source file in the main tree of any module the root POM lists
 * (core, the adapters, diagnostics, micrometer, the testing kit, junit5, examples, benchmarks)
 * holds a trust-all trust manager or a hostname-verifier bypass. Test trees may (they trust a
 * self-signed certificate on purpose, and even they use a real trust manager). The scan is
 * textual; each pattern names what it catches, and the test fails naming the file.
 */
class NoWeakenedTlsTest {
  /** Modules that must be among those scanned: a POM the scan misreads must not pass by scanning none. */
  private static final List<String> LIBRARY_MODULES = List.of("core", "diagnostics", "testing",
      "httpclient5-adapter", "okhttp-adapter", "reactor-netty-adapter", "micrometer", "junit5");
  private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");

  /** What weakens TLS, by the words that give it away. */
  static final Map<String, Pattern> WEAKENINGS = Map.of(
      "NoopHostnameVerifier", Pattern.compile("\\bNoopHostnameVerifier\\b"),
      "TrustAllStrategy", Pattern.compile("\\bTrustAllStrategy\\b"),
      "TrustSelfSignedStrategy", Pattern.compile("\\bTrustSelfSignedStrategy\\b"),
      "ALLOW_ALL hostname verifier", Pattern.compile("ALLOW_ALL_HOSTNAME_VERIFIER|AllowAllHostnameVerifier"),
      "InsecureTrustManagerFactory", Pattern.compile("\\bInsecureTrustManagerFactory\\b"),
      // Netty's SslHandler checks the host name only through the engine's endpoint identification,
      // which Reactor Netty switches on; clearing it turns that check off.
      "endpoint identification cleared",
      Pattern.compile("setEndpointIdentificationAlgorithm\\s*\\(\\s*(?:null|\"\")\\s*\\)"),
      "hostname verifier lambda returning true",
      Pattern.compile("(?:[Hh]ostname[Vv]erifier\\s*[({=]?\\s*)(?:\\{\\s*_?\\w*\\s*,\\s*_?\\w*\\s*->|\\(\\s*\\w*\\s*,\\s*\\w*\\s*\\)\\s*->)\\s*\\{?\\s*(?:return\\s+)?true\\b"),
      "HostnameVerifier whose verify returns true",
      Pattern.compile("boolean\\s+verify\\s*\\(\\s*String\\s+\\w+\\s*,\\s*(?:javax\\.net\\.ssl\\.)?SSLSession\\s+\\w+\\s*\\)\\s*\\{\\s*return\\s+true\\s*;"),
      "X509TrustManager with an empty check",
      Pattern.compile("void\\s+check(?:Server|Client)Trusted\\s*\\([^)]*\\)\\s*(?:throws\\s+[\\w.,\\s]+)?\\{\\s*(?://[^\\n]*\\s*)*\\}"));

  static List<String> weakenings(String source) {
    List<String> found = new ArrayList<>();
    WEAKENINGS.forEach((what, pattern) -> {
      if (pattern.matcher(source).find()) {
        found.add(what);
      }
    });
    return found;
  }

  private static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("core/src/main/java"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("the project root above %s", Path.of("").toAbsolutePath()).isNotNull();
    return dir;
  }

  @Test
  void noMainSourceTreeHoldsATrustAllManagerOrAHostnameVerifierBypass() throws IOException {
    Path root = root();
    List<String> offenders = new ArrayList<>();
    int scanned = 0;
    List<String> modules = new ArrayList<>();
    Matcher m = MODULE.matcher(read(root.resolve("pom.xml")));
    while (m.find()) {
      if (Files.isDirectory(root.resolve(m.group(1).trim()).resolve("src/main"))) {
        modules.add(m.group(1).trim());
      }
    }
    assertThat(modules).as("modules with a main tree in the root POM").containsAll(LIBRARY_MODULES);
    for (String module : modules) {
      Path main = root.resolve(module).resolve("src/main");
      List<Path> files;
      try (Stream<Path> walk = Files.walk(main)) {
        files = walk.filter(p -> p.toString().endsWith(".java") || p.toString().endsWith(".kt")).toList();
      }
      for (Path file : files) {
        scanned++;
        List<String> found = weakenings(read(file));
        if (!found.isEmpty()) {
          offenders.add(root.relativize(file) + ": " + found);
        }
      }
    }
    assertThat(scanned).as("source files scanned").isGreaterThan(30);
    assertThat(offenders).as("main sources that weaken TLS").isEmpty();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void theScanCatchesEachKnownBypass() {
    assertThat(weakenings("builder.setHostnameVerifier(NoopHostnameVerifier.INSTANCE);"))
        .contains("NoopHostnameVerifier");
    assertThat(weakenings("new SSLContextBuilder().loadTrustMaterial(TrustAllStrategy.INSTANCE)"))
        .contains("TrustAllStrategy");
    assertThat(weakenings("loadTrustMaterial(null, new TrustSelfSignedStrategy())"))
        .contains("TrustSelfSignedStrategy");
    assertThat(weakenings("builder.hostnameVerifier { _, _ -> true }"))
        .contains("hostname verifier lambda returning true");
    assertThat(weakenings("builder.hostnameVerifier((host, session) -> true);"))
        .contains("hostname verifier lambda returning true");
    assertThat(weakenings("HttpsURLConnection.setDefaultHostnameVerifier((h, s) -> true);"))
        .contains("hostname verifier lambda returning true");
    assertThat(weakenings("public boolean verify(String host, SSLSession session) { return true; }"))
        .contains("HostnameVerifier whose verify returns true");
    assertThat(weakenings("public void checkServerTrusted(X509Certificate[] chain, String authType)"
        + " throws CertificateException {\n  // trust everyone\n}"))
        .contains("X509TrustManager with an empty check");
    assertThat(weakenings("public void checkClientTrusted(X509Certificate[] c, String a) {}"))
        .contains("X509TrustManager with an empty check");
    assertThat(weakenings("engine.getSSLParameters().setEndpointIdentificationAlgorithm(null);"))
        .contains("endpoint identification cleared");
    assertThat(weakenings("params.setEndpointIdentificationAlgorithm(\"\")"))
        .contains("endpoint identification cleared");
    assertThat(weakenings("params.setEndpointIdentificationAlgorithm(\"HTTPS\")")).isEmpty();
    assertThat(weakenings("tmf.init(keyStore); builder.sslSocketFactory(ctx.getSocketFactory(), tm);"))
        .isEmpty();
    assertThat(weakenings("public void checkServerTrusted(X509Certificate[] c, String a) throws"
        + " CertificateException { delegate.checkServerTrusted(c, a); }")).isEmpty();
  }
}
