package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.AdapterContract;
import dev.timewait.testing.ContractClient;
import java.util.List;
import okhttp3.Protocol;

/**
 * The adapter contract, run against OkHttp configured by {@link TimeWaitOkHttp}.
 *
 * <p>The control client is OkHttp's defaults with one change: HTTP/1.1 only, the protocol that
 * every configured client uses. With OkHttp's default protocols WireMock's HTTPS negotiates
 * HTTP/2, and closing an idle HTTP/2 connection ends in a reset for most connections (measured:
 * 32 of 100 left client TIME_WAIT, against 100 of 100 over HTTP/1.1), so the contract's 90% bound
 * would measure HTTP/2's close rather than the client's. {@code OkHttpAdapterTest} shows the
 * HTTP/2 default leaving client TIME_WAIT too.
 */
class OkHttpAdapterContractTest extends AdapterContract {

  @Override
  protected ContractClient newClient(CloseStrategy strategy) {
    CloseAccounting accounting = new CloseAccounting();
    return new OkHttpContractClient(
        TimeWaitOkHttp.configure(OkHttpContractClient.trustingBuilder(), strategy, accounting).build(),
        accounting);
  }

  @Override
  protected ContractClient newUnconfiguredClient() {
    return new OkHttpContractClient(
        OkHttpContractClient.trustingBuilder().protocols(List.of(Protocol.HTTP_1_1)).build(), null);
  }
}
