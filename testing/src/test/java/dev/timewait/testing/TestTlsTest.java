package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The test certificate's files go with the JVM that made them. */
class TestTlsTest {

  @Test
  void theKeyStoreAndItsDirectoryAreGoneOnceTheJvmExits() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        MakeCertificate.class.getName())
        .redirectErrorStream(true)
        .start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child JVM ended within 60 s").isTrue();
    assertThat(child.exitValue()).as("exit value; output: %s", output).isZero();
    Path keyStore = Path.of(output.substring(output.lastIndexOf('\n') + 1));
    assertThat(keyStore.getFileName()).hasToString("server.p12");
    assertThat(Files.exists(keyStore)).as("%s exists after its JVM exited", keyStore).isFalse();
    assertThat(Files.exists(keyStore.getParent()))
        .as("%s exists after its JVM exited", keyStore.getParent()).isFalse();
  }

  /** Makes the certificate and prints its key store's path, as a test JVM would, then exits. */
  static final class MakeCertificate {
    public static void main(String[] args) {
      System.out.println(TestTls.get().keyStorePath());
    }
  }
}
