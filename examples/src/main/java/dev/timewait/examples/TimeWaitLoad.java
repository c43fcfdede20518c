package dev.timewait.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code java -jar timewait-load.jar <command>}: the entry point of the demo, the load CLI and the
 * doctor.
 * Each subcommand is one class listed in {@code subcommands} below; adding one is one line.
 *
 * <pre>{@code
 * java -jar examples/target/timewait-load.jar demo
 * java -jar examples/target/timewait-load.jar load --url http://127.0.0.1:8080/ --client okhttp --strategy reset --json
 * java -jar examples/target/timewait-load.jar doctor 10.0.0.7:443 --no-keep-alive --rate 2000
 * }</pre>
 *
 * <p>Exit codes: 0 success; 1 a request failed (or an unexpected failure); 2 bad arguments, with a
 * one-line reason and the usage on stderr (for an unknown option, the reason and a pointer to
 * {@code --help} instead), never a stack trace.
 *
 * <p>Thread-safe: {@link #execute} builds a new command line for every call.
 */
@Command(
    name = "timewait-load",
    mixinStandardHelpOptions = true,
    versionProvider = TimeWaitLoad.Version.class,
    description = "Shows, measures and explains client-side TIME_WAIT: a demo, a load generator for any URL,"
        + " and a doctor for this host's limits.",
    subcommands = {
      LoadCommand.class,
      DemoCommand.class,
      DoctorCommand.class,
      CommandLine.HelpCommand.class,
    })
public final class TimeWaitLoad implements Runnable {
  /** Success. */
  public static final int EXIT_OK = 0;
  /** A request failed. */
  public static final int EXIT_FAILED = 1;
  /** Bad arguments. */
  public static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    System.exit(execute(out, err, args));
  }

  /** Runs the CLI with {@code args}, writing to {@code out} and {@code err}; returns the exit code. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new TimeWaitLoad());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println(commandLine.getCommandName() + ": error: " + LoadEngine.describe(e));
      commandLine.getErr().flush();
      return EXIT_FAILED;
    });
    cli.setExitCodeExceptionMapper(e -> e instanceof ParameterException ? EXIT_USAGE : EXIT_FAILED);
    cli.setParameterExceptionHandler(TimeWaitLoad::badArguments);
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /**
   * Prints the reason, then the usage; but for an unknown option or argument (a typo, mostly) the
   * reason, picocli's close matches and a pointer to {@code --help}: a screenful of usage would
   * bury the one line that says what was wrong.
   */
  static int badArguments(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(e.getMessage());
    if (e instanceof UnmatchedArgumentException) {
      UnmatchedArgumentException.printSuggestions(e, err);
      err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
    } else {
      cmd.usage(err);
    }
    err.flush();
    return EXIT_USAGE;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing a command: one of " + spec.subcommands().keySet());
  }

  /**
   * The project's version, from a resource Maven filters at build time, so that it is right in the
   * jar and in tests alike; else from the jar manifest's {@code Implementation-Version}.
   */
  static final class Version implements CommandLine.IVersionProvider {
    /** Holds {@code version=${project.version}}, filtered by Maven. */
    static final String RESOURCE = "/dev/timewait/examples/timewait-load.properties";

    @Override
    public String[] getVersion() {
      return new String[] {"timewait-load " + version()};
    }

    static String version() {
      try (InputStream in = TimeWaitLoad.class.getResourceAsStream(RESOURCE)) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          String v = p.getProperty("version", "");
          if (!v.isBlank() && !v.startsWith("${")) {
            return v;
          }
        }
      } catch (IOException e) {
        // fall back to the manifest
      }
      String v = TimeWaitLoad.class.getPackage().getImplementationVersion();
      return v == null ? "(unknown version: built without Maven)" : v;
    }
  }
}
