package dev.timewait.junit5;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/** Runs fixture classes through the Jupiter engine with EngineTestKit, and reads the results. */
final class Kit {
  private Kit() {}

  static EngineExecutionResults run(Class<?> fixture) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(fixture)).execute();
  }

  /** The messages of the failures among {@code events}, in order. */
  static List<String> failures(Events events) {
    return events.failed().stream().map(Kit::message).collect(Collectors.toList());
  }

  static String message(Event event) {
    Throwable t = event.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable)
        .orElseThrow(() -> new AssertionError("no throwable in " + event));
    return t.getMessage();
  }

  /** The values of the report entries published under {@code key}, in order. */
  static List<String> entries(EngineExecutionResults results, String key) {
    return results.allEvents().reportingEntryPublished().stream()
        .map(e -> e.getPayload(ReportEntry.class).orElseThrow().getKeyValuePairs().get(key))
        .filter(v -> v != null)
        .collect(Collectors.toList());
  }
}
