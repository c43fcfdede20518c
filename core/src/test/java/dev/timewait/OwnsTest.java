package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** {@link TimeWaitSocketFactory#owns(Socket)}: this factory's connection, and open. */
class OwnsTest {
  @Test
  @SuppressWarnings("try") // closes a resource early on purpose, inside its try
  void aFactorysOwnSocketIsOwnedOnlyWhileItsConnectionIsOpen() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset());
      try (Socket client = factory.createSocket()) {
        assertThat(factory.owns(client)).as("not connected yet").isFalse();
        client.connect(new InetSocketAddress(server.getInetAddress(), server.getLocalPort()));
        try (Socket peer = server.accept()) {
          assertThat(factory.owns(client)).as("connected").isTrue();
          assertThat(TimeWaitSocketFactory.create(CloseStrategy.reset()).owns(client))
              .as("another factory's").isFalse();
          client.close();
          // Before session 46 a socket of the factory answered true whatever its state, as the
          // javadoc's "and open" did not; a socket layered over it already answered false.
          assertThat(factory.owns(client)).as("closed").isFalse();
        }
      }
    }
  }
}
