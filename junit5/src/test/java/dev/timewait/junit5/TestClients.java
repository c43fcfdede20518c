package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * Clients and {@link ClientProvider}s for the resolver's tests, listed in this module's test
 * {@code META-INF/services}: a one-connection keep-alive client that closes its connection only
 * when the client is closed, in a naive form (plain sockets, ignores the strategy) and in a form
 * configured with the strategy through core's socket factory; and a provider whose client class
 * is absent.
 */
final class TestClients {
  private TestClients() {}

  /** Keeps one connection open across requests; closes it in {@link #close()}. */
  abstract static class KeepAliveClient {
    private final SocketFactory factory;
    private Socket socket;

    KeepAliveClient(SocketFactory factory) {
      this.factory = factory;
    }

    synchronized int get(int port) throws IOException {
      if (socket == null) {
        socket = factory.createSocket(InetAddress.getLoopbackAddress(), port);
      }
      return RawClient.exchange(socket, false, s -> {});
    }

    synchronized boolean isClosed() {
      return socket == null || socket.isClosed();
    }

    synchronized void close() throws IOException {
      if (socket != null) {
        socket.close();
      }
    }
  }

  /** Plain sockets: closing the client closes its connection first, leaving client TIME_WAIT. */
  static final class NaiveKeepAliveClient extends KeepAliveClient {
    NaiveKeepAliveClient() {
      super(SocketFactory.getDefault());
    }
  }

  /** Sockets from {@link TimeWaitSocketFactory}: they close the way the strategy says. */
  static final class ConfiguredKeepAliveClient extends KeepAliveClient {
    ConfiguredKeepAliveClient(CloseStrategy strategy, CloseAccounting accounting) {
      super(TimeWaitSocketFactory.create(strategy, accounting));
    }
  }

  public static final class NaiveProvider implements ClientProvider {
    @Override
    public String clientClassName() {
      return NaiveKeepAliveClient.class.getName();
    }

    @Override
    public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
      return new NaiveKeepAliveClient();
    }

    @Override
    public void close(Object client) throws IOException {
      ((KeepAliveClient) client).close();
    }
  }

  public static final class ConfiguredProvider implements ClientProvider {
    @Override
    public String clientClassName() {
      return ConfiguredKeepAliveClient.class.getName();
    }

    @Override
    public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
      return new ConfiguredKeepAliveClient(strategy, accounting);
    }

    @Override
    public void close(Object client) throws IOException {
      ((KeepAliveClient) client).close();
    }
  }

  /** Plain sockets, and a provider whose close closes the client and then fails. */
  static final class CloseFailsClient extends KeepAliveClient {
    CloseFailsClient() {
      super(SocketFactory.getDefault());
    }
  }

  public static final class CloseFailsProvider implements ClientProvider {
    @Override
    public String clientClassName() {
      return CloseFailsClient.class.getName();
    }

    @Override
    public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
      return new CloseFailsClient();
    }

    @Override
    public void close(Object client) throws IOException {
      ((KeepAliveClient) client).close();
      throw new IOException("the provider's close failed after closing the client");
    }
  }

  /** What {@link WrongTypeProvider} says it makes; it makes something else. */
  static final class PromisedClient {}

  /** A provider that makes the wrong type: the resolver fails the parameter and closes what it made. */
  public static final class WrongTypeProvider implements ClientProvider {
    static final java.util.concurrent.atomic.AtomicInteger CLOSED =
        new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public String clientClassName() {
      return PromisedClient.class.getName();
    }

    @Override
    public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
      return "not a client";
    }

    @Override
    public void close(Object client) {
      CLOSED.incrementAndGet();
    }
  }

  /** Stands for a provider of a client library that is not on the classpath. */
  public static final class AbsentProvider implements ClientProvider {
    @Override
    public String clientClassName() {
      return "com.example.absent.HttpClient";
    }

    @Override
    public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
      throw new AssertionError("never called: the client class is absent");
    }

    @Override
    public void close(Object client) {
      throw new AssertionError("never called: the client class is absent");
    }
  }
}
