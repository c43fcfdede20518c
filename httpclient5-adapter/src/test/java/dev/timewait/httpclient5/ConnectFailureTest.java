package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A refused connect fails the request as usual and counts no connection. */
class ConnectFailureTest {

  @ParameterizedTest
  @EnumSource(Flavor.class)
  void aRefusedConnectFailsTheRequestAndCountsNothing(Flavor flavor) throws Exception {
    URI uri = refusedUri();
    CloseAccounting accounting = new CloseAccounting();
    try (TestClient client = flavor.client(CloseStrategy.serverClose(), accounting)) {
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> client.get(uri)).hasStackTraceContaining("Connection refused");
      }
    }
    assertThat(accounting.snapshot()).isEqualTo(CloseStats.EMPTY);
  }

  /** A loopback URI whose port nothing listens on: a connect to it is refused. */
  static URI refusedUri() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket()) {
      probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      port = probe.getLocalPort();
    } // closed: nothing listens there now
    return URI.create("http://127.0.0.1:" + port + "/");
  }
}
