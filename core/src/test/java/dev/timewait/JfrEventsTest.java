package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

class JfrEventsTest {
  @Test
  void serverCloseThroughTheSocketFactoryIsRecordedAsConnectionClosedAndFinWaitEvents()
      throws Exception {
    Path file = Paths.get("target", "jfr", "timewait-close.jfr"); // kept for `jfr print`
    Files.createDirectories(file.getParent());
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
    try (Recording recording = new Recording();
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      recording.enable("dev.timewait.ConnectionClosed");
      recording.enable("dev.timewait.FinWait");
      recording.start();
      CloseListenerTest.exchange(factory, server, 50, true);
      recording.stop();
      recording.dump(file);
    }
    List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().startsWith("dev.timewait."))
        .collect(Collectors.toList());
    RecordedEvent closed = only(events, "dev.timewait.ConnectionClosed");
    assertThat(closed.getString("mode")).isEqualTo("AFTER_PEER_FIN");
    assertThat(closed.getString("reason")).isEqualTo("STRATEGY");
    assertThat(closed.getString("strategy")).isEqualTo("server-close");
    assertThat(closed.getString("destination")).matches("(localhost|127\\.0\\.0\\.1):\\d+");
    assertThat(closed.getDuration("finWait").toMillis()).isGreaterThanOrEqualTo(30);
    RecordedEvent finWait = only(events, "dev.timewait.FinWait");
    assertThat(finWait.getString("mode")).isEqualTo("AFTER_PEER_FIN");
    assertThat(finWait.getDuration("waited")).isEqualTo(closed.getDuration("finWait"));
    assertThat(factory.accounting().snapshot().closedAfterPeerFin()).isEqualTo(1);
  }

  @Test
  void eventsAreOffUnlessARecordingEnablesThem() throws Exception {
    Path file = Paths.get("target", "jfr", "timewait-default.jfr");
    Files.createDirectories(file.getParent());
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
    try (Recording recording = new Recording();
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      recording.start(); // no settings: every event at its default, ours @Enabled(false)
      CloseListenerTest.exchange(factory, server, 0, false);
      recording.stop();
      recording.dump(file);
    }
    assertThat(RecordingFile.readAllEvents(file))
        .noneMatch(e -> e.getEventType().getName().startsWith("dev.timewait."));
    assertThat(factory.accounting().snapshot().closedByReset()).isEqualTo(1);
  }

  private static RecordedEvent only(List<RecordedEvent> events, String name) {
    List<RecordedEvent> named = events.stream()
        .filter(e -> e.getEventType().getName().equals(name)).collect(Collectors.toList());
    assertThat(named).as(name).hasSize(1);
    return named.get(0);
  }
}
