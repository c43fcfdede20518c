package dev.timewait.httpclient5;

import dev.timewait.testing.ContractClient;

/** A {@link ContractClient} whose close throws no checked exception (no interrupt to handle). */
interface TestClient extends ContractClient {
  @Override
  void close();
}
