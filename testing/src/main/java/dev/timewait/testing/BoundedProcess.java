package dev.timewait.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command within a bound: its output (standard error merged) goes to a temporary file, and
 * its standard input is closed, so that a command that hangs, or waits for a prompt's answer,
 * costs the bound and no more. Reading its pipe to the end first, then waiting, would wait for as
 * long as the command keeps the pipe open; waiting first, with the pipe unread, would stall a
 * command whose output outgrows the pipe's buffer (64 KiB on Linux). Stateless and thread-safe.
 */
final class BoundedProcess {
  /**
   * What a command gave: its exit value and output, or, where it outlived its bound ({@code
   * timedOut}), -1 and no output.
   */
  record Result(int exitValue, String output, boolean timedOut) {}

  private BoundedProcess() {}

  /**
   * Runs {@code command} for at most {@code boundSeconds}; returns what it gave (timed out if it
   * outlived the bound: then it is killed), or null if it could not start (not installed).
   */
  static Result run(List<String> command, long boundSeconds) throws InterruptedException {
    Path out;
    try {
      out = Files.createTempFile("timewait-process", ".out");
    } catch (IOException e) {
      return null;
    }
    Process process = null;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      process.getOutputStream().close(); // no input: a prompt reads end of file, not forever
      if (!process.waitFor(boundSeconds, TimeUnit.SECONDS)) {
        return new Result(-1, "", true);
      }
      return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), false);
    } catch (IOException e) {
      return null;
    } finally {
      if (process != null) {
        process.destroyForcibly();
      }
      try {
        Files.deleteIfExists(out);
      } catch (IOException e) {
        out.toFile().deleteOnExit();
      }
    }
  }
}
