package dev.timewait.testing;

import dev.timewait.CloseStats;
import java.net.URI;

/**
 * One HTTP client under the adapter contract: HttpClient 5 classic, HttpClient 5 async, or
 * OkHttp, configured by its adapter with a strategy. Thread-safe: the contract calls {@link #get}
 * from several threads at once.
 */
public interface ContractClient extends AutoCloseable {

  /** Sends {@code GET uri}, reads the whole body, and returns the status code. */
  int get(URI uri) throws Exception;

  /** The close accounting of this client's connections. */
  CloseStats stats();

  /** Closes the client and its pool. */
  @Override
  void close() throws Exception;
}
