package dev.timewait.testing;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP client under the reliability contracts ({@link FaultContract}, {@link IntegrityContract},
 * {@link LoadContract}): HttpClient 5 classic or async, OkHttp or Reactor Netty, configured by its
 * adapter. Thread-safe: the contracts call it from many threads at once.
 */
public interface FaultClient extends ContractClient {

  /**
   * Sends {@code method uri} with {@code headers} and {@code body} ({@code null}: none), reads the
   * whole response body and returns the response. Fails with the client's own exception (or one
   * wrapping it) when the exchange fails.
   *
   * @param method the request method
   * @param uri the resource
   * @param headers request headers to add
   * @param body the request body, or null for none
   * @return the response, read whole
   * @throws Exception what the client throws when the exchange fails
   */
  Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body) throws Exception;

  /**
   * Starts {@code GET uri} without waiting for it: a call that a test can cancel.
   *
   * @param uri the resource
   * @return the call under way
   */
  InFlight start(URI uri);

  @Override
  default int get(URI uri) throws Exception {
    return exchange("GET", uri, Map.of(), null).status();
  }

  /**
   * A response read whole: status, headers (names in lower case) and body. The map and the array
   * are the implementor's, not copied (a 10 MiB body once is enough): the contracts only read them.
   */
  record Reply(int status, Map<String, String> headers, byte[] body) {
    /**
     * The value of header {@code name} (any case), or {@code null}.
     *
     * @param name the header's name, in any case
     * @return its value, or null
     */
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** A call under way. */
  interface InFlight {
    /** Cancels the call the client's own way (Call.cancel(), request.cancel(), Future.cancel()). */
    void cancel();

    /**
     * Waits at most {@code bound} for the call's end; throws what the call failed with.
     *
     * @param bound the longest to wait
     * @return the response, read whole
     * @throws Exception what the call failed with, or a timeout
     */
    Reply await(Duration bound) throws Exception;
  }
}
