package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BoundedProcess}: the bound holds whatever the command does with its pipes (the kit runs
 * {@code ss} and {@code keytool} through it). Needs the POSIX tools {@code sleep}, {@code cat}
 * and {@code seq}.
 */
class BoundedProcessTest {
  @BeforeEach
  void posixTools() {
    for (String tool : List.of("sleep", "cat", "seq")) {
      assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)) || Files.isExecutable(Path.of("/bin", tool)),
          () -> "skipped: no " + tool + " in /usr/bin or /bin (not a POSIX system)");
    }
  }

  @Test
  void aCommandThatHangsCostsTheBoundAndGivesNothingButThatItTimedOut() throws Exception {
    long start = System.nanoTime();
    BoundedProcess.Result result = BoundedProcess.run(List.of("sleep", "30"), 1);
    assertThat(result).isNotNull();
    assertThat(result.timedOut()).isTrue();
    assertThat(result.exitValue()).isEqualTo(-1);
    assertThat(result.output()).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aCommandThatReadsItsInputReadsEndOfFileInsteadOfWaiting() throws Exception {
    BoundedProcess.Result result = BoundedProcess.run(List.of("cat"), 10);
    assertThat(result).isNotNull();
    assertThat(result.exitValue()).isZero();
    assertThat(result.output()).isEmpty();
  }

  @Test
  void outputBeyondThePipesBufferArrivesWhole() throws Exception {
    // About 590 KiB: a command writing into an unread pipe would stall at 64 KiB.
    BoundedProcess.Result result = BoundedProcess.run(List.of("seq", "1", "100000"), 10);
    assertThat(result).isNotNull();
    assertThat(result.exitValue()).isZero();
    assertThat(result.output().lines().count()).isEqualTo(100_000);
  }

  @Test
  void aCommandThatCannotStartGivesNothing() throws Exception {
    assertThat(BoundedProcess.run(List.of("/nonexistent/timewait-no-such-tool"), 1)).isNull();
  }
}
