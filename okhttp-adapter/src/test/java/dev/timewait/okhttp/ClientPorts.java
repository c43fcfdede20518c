package dev.timewait.okhttp;

import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.EventListener;

/**
 * Records every connection a client acquires (its four-tuple), so that a test counts TIME_WAIT of
 * exactly its own connections. Counting by the server's port alone also counts other processes'
 * TIME_WAIT towards an earlier server that had the same port number, and counting by the client's
 * port counts other connections from that port: other test runs share this kernel. Thread-safe.
 */
final class ClientPorts extends EventListener {
  private final Set<Tuple> connections = ConcurrentHashMap.newKeySet();

  private record Tuple(InetSocketAddress local, InetSocketAddress remote) {}

  @Override
  public void connectionAcquired(Call call, Connection connection) {
    Socket socket = connection.socket();
    connections.add(new Tuple(new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort()),
        new InetSocketAddress(socket.getInetAddress(), socket.getPort())));
  }

  /** Distinct connections seen. */
  int size() {
    return connections.size();
  }

  /** Client-side sockets of the recorded connections now in TIME_WAIT. */
  int timeWait() {
    return count(false);
  }

  /** Server-side sockets of the recorded connections now in TIME_WAIT. */
  int serverTimeWait() {
    return count(true);
  }

  /**
   * Waits, at most {@code bound}, until at least {@code atLeast} server-side sockets of the
   * recorded connections are in TIME_WAIT (the last ACK may still be in flight); returns the count.
   */
  int awaitServerTimeWait(int atLeast, java.time.Duration bound) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    int count = serverTimeWait();
    while (count < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(20);
      count = serverTimeWait();
    }
    return count;
  }

  private int count(boolean serverSide) {
    int count = 0;
    for (Tuple t : connections) {
      TcpFilter filter = serverSide ? TcpFilter.connection(t.remote(), t.local())
          : TcpFilter.connection(t.local(), t.remote());
      count += TcpTable.system().count(TcpState.TIME_WAIT, filter);
    }
    return count;
  }
}
