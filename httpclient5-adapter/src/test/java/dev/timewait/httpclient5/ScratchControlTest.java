package dev.timewait.httpclient5;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.*;
import dev.timewait.testing.*;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScratchControlTest {
  @Test
  void scratch() throws Exception {
    WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort().dynamicHttpsPort()
        .keystorePath(TestTls.get().keyStorePath().toString()).keystorePassword(TestTls.PASSWORD)
        .keyManagerPassword(TestTls.PASSWORD).keystoreType("PKCS12"));
    server.start();
    server.stubFor(get(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200).withBody("hello")));
    try {
      AsyncAdapterContractTest t = new AsyncAdapterContractTest();
      URI uri = URI.create("https://localhost:" + server.httpsPort() + "/hello");
      ContractClient c = t.newClient(CloseStrategy.serverClose());
      for (int i = 0; i < 5; i++) { c.get(uri); }
      Thread.sleep(500);
      c.close();
      KernelTcp.awaitClientSettled(server.httpsPort(), Duration.ofSeconds(5));
      Thread.sleep(500);
      System.out.println("SCRATCH stats=" + c.stats() + " client TW=" + KernelTcp.clientTimeWait(server.httpsPort()) + " server TW=" + KernelTcp.serverTimeWait(server.httpsPort()));
    } finally { server.stop(); }
  }
}
