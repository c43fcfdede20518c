package dev.timewait.benchmarks;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.locks.Lock;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.Command;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.util.Timeout;

/**
 * An I/O session that closes IMMEDIATE whatever it is asked: what a user would write, as HttpClient
 * 5 async's I/O session decorator, to reset every connection by hand (HttpCore's IMMEDIATE close
 * sets SO_LINGER(0) and closes; its graceful one shuts the output down first, a FIN). Everything
 * else is passed on. For {@link BenchClient#naiveSharedWithRst}; thread-safe as the session it wraps.
 */
final class ImmediateCloseSession implements IOSession {
  private final IOSession delegate;

  ImmediateCloseSession(IOSession delegate) {
    this.delegate = delegate;
  }

  @Override
  public void close() {
    delegate.close(CloseMode.IMMEDIATE);
  }

  @Override
  public void close(CloseMode closeMode) {
    delegate.close(CloseMode.IMMEDIATE);
  }

  @Override
  public IOEventHandler getHandler() {
    return delegate.getHandler();
  }

  @Override
  public void upgrade(IOEventHandler handler) {
    delegate.upgrade(handler);
  }

  @Override
  public Lock getLock() {
    return delegate.getLock();
  }

  @Override
  public void enqueue(Command command, Command.Priority priority) {
    delegate.enqueue(command, priority);
  }

  @Override
  public boolean hasCommands() {
    return delegate.hasCommands();
  }

  @Override
  public Command poll() {
    return delegate.poll();
  }

  @Override
  public ByteChannel channel() {
    return delegate.channel();
  }

  @Override
  public SocketAddress getRemoteAddress() {
    return delegate.getRemoteAddress();
  }

  @Override
  public SocketAddress getLocalAddress() {
    return delegate.getLocalAddress();
  }

  @Override
  public int getEventMask() {
    return delegate.getEventMask();
  }

  @Override
  public void setEventMask(int ops) {
    delegate.setEventMask(ops);
  }

  @Override
  public void setEvent(int op) {
    delegate.setEvent(op);
  }

  @Override
  public void clearEvent(int op) {
    delegate.clearEvent(op);
  }

  @Override
  public Status getStatus() {
    return delegate.getStatus();
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  @Override
  public Timeout getSocketTimeout() {
    return delegate.getSocketTimeout();
  }

  @Override
  public void setSocketTimeout(Timeout timeout) {
    delegate.setSocketTimeout(timeout);
  }

  @Override
  public long getLastReadTime() {
    return delegate.getLastReadTime();
  }

  @Override
  public long getLastWriteTime() {
    return delegate.getLastWriteTime();
  }

  @Override
  public long getLastEventTime() {
    return delegate.getLastEventTime();
  }

  @Override
  public void updateReadTime() {
    delegate.updateReadTime();
  }

  @Override
  public void updateWriteTime() {
    delegate.updateWriteTime();
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return delegate.read(dst);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return delegate.write(src);
  }

  @Override
  public String getId() {
    return delegate.getId();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
