package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.RawHttpPeer;
import java.net.URI;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The async client's registry of connections ({@link AsyncConnections}) lets go of every
 * connection once it is gone: the reactor reports closed sessions, but never a connect that
 * failed, which the registry forgets by itself.
 */
class AsyncConnectionRegistryTest {

  @Test
  void connectsThatFailAreForgottenAndNeverPileUp() throws Exception {
    URI uri = ConnectFailureTest.refusedUri();
    CloseStrategy strategy = CloseStrategy.reset();
    CloseAccounting accounting = new CloseAccounting();
    AsyncConnections connections = new AsyncConnections(strategy, accounting);
    try (TestClient client = client(strategy, accounting, connections)) {
      for (int i = 0; i < 3 * AsyncConnections.SWEEP_EVERY; i++) {
        assertThatThrownBy(() -> client.get(uri)).hasStackTraceContaining("Connection refused");
        assertThat(connections.tracked())
            .as("connections tracked after %d refused connects", i + 1)
            .isLessThanOrEqualTo(AsyncConnections.SWEEP_EVERY);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"reset", "server close"})
  void everyClosedConnectionIsForgotten(String name) throws Exception {
    CloseStrategy strategy = name.equals("reset") ? CloseStrategy.reset() : CloseStrategy.serverClose();
    CloseAccounting accounting = new CloseAccounting();
    AsyncConnections connections = new AsyncConnections(strategy, accounting);
    // A well-behaved HTTP/1.1 server: answers a reset's requests keeping the connection, a
    // server close's Connection: close by closing first.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE);
        TestClient client = client(strategy, accounting, connections)) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      for (int i = 0; i < 20; i++) {
        assertThat(client.get(uri)).isEqualTo(200);
      }
      // The reactor reports each close once it has run its close callbacks: bounded wait.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (connections.tracked() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(connections.tracked()).as("connections tracked after 20 closed ones").isZero();
      assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(20);
      assertThat(accounting.snapshot().open()).isZero();
      assertThat(name.equals("reset")
          ? accounting.snapshot().closedByReset()
          : accounting.snapshot().closedAfterPeerFin()).isEqualTo(20);
    }
  }

  private static TestClient client(
      CloseStrategy strategy, CloseAccounting accounting, AsyncConnections connections) {
    return new AsyncContractClient(AsyncConfigurer.configure(
        HttpAsyncClients.custom(), strategy, accounting, Flavor.options(), connections).build(),
        accounting::snapshot);
  }
}
