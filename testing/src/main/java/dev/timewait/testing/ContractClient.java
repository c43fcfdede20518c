package dev.timewait.testing;

import dev.timewait.CloseStats;
import java.net.URI;

/**
 * One HTTP client under the adapter contract: HttpClient 5 classic, HttpClient 5 async, or
 * OkHttp, configured by its adapter with a strategy. Thread-safe: the contract calls {@link #get}
 * from several threads at once.
 */
public interface ContractClient extends AutoCloseable {

  /**
   * Sends {@code GET uri}, reads the whole body, and returns the status code.
   *
   * @param uri the resource
   * @return the response's status code
   * @throws Exception what the client throws when the exchange fails
   */
  int get(URI uri) throws Exception;

  /**
   * The close accounting of this client's connections.
   *
   * @return the client's close accounting
   */
  CloseStats stats();

  /** Closes the client and its pool. */
  @Override
  void close() throws Exception;
}
