package dev.timewait.testing;

import dev.timewait.CloseStats;
import java.net.URI;

/**
 * One HTTP client wrapped for a test or a load run: HttpClient 5 classic, HttpClient 5 async, or
 * OkHttp, configured by its adapter with a strategy (or, for a baseline, without timewait). The
 * one wrapper interface the contracts, the load CLI ({@code LoadClient}) and the benchmarks
 * ({@code BenchClient}) share; each implements it per client, since each configures its client
 * differently. Thread-safe: callers send from several threads at once.
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
   * The close accounting of this client's connections. A client made by an adapter for a
   * contract always has one; a baseline without timewait (the CLI's, the benchmarks') has none.
   *
   * @return the client's close accounting, or null where the client counts nothing
   */
  CloseStats stats();

  /**
   * Closes the client and its pool. The contracts may call it twice (once to count what the close
   * leaves, once more as the try-with-resources ends): a second call must do nothing.
   */
  @Override
  void close() throws Exception;
}
