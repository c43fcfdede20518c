package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.RawHttpPeer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A resolver of the user's reaches both clients: timewait builds the connection manager, where
 * HttpClient takes it, so one set on a manager of the user's was lost (a service registry's, or a
 * test's that pins names).
 */
class DnsResolverOptionTest {
  private static final String NAME = "orders.timewait.invalid"; // resolvable only by the resolver

  @ParameterizedTest
  @EnumSource(Flavor.class)
  void theClientResolvesNamesWithTheResolverGiven(Flavor flavor) throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    DnsResolver pinned = new DnsResolver() {
      @Override
      public InetAddress[] resolve(String host) throws UnknownHostException {
        asked.add(host);
        if (!NAME.equals(host)) {
          throw new UnknownHostException(host);
        }
        return new InetAddress[] {InetAddress.getByAddress(NAME, new byte[] {127, 0, 0, 1})};
      }

      @Override
      public String resolveCanonicalHostname(String host) {
        return host;
      }
    };
    HttpClient5Options options = Flavor.options().toBuilder().dnsResolver(pinned).build();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      String uri = "http://" + NAME + ":" + peer.port() + "/";
      CloseAccounting accounting = new CloseAccounting();
      int code;
      if (flavor == Flavor.CLASSIC) {
        try (CloseableHttpClient client = TimeWaitHttpClient5.configure(
            HttpClients.custom(), CloseStrategy.reset(), accounting, options).build()) {
          code = client.execute(new HttpGet(uri), response -> {
            EntityUtils.consume(response.getEntity());
            return response.getCode();
          });
        }
      } else {
        CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
            HttpAsyncClients.custom(), CloseStrategy.reset(), accounting, options).build();
        client.start();
        try {
          code = client.execute(SimpleRequestBuilder.get(uri).build(), null)
              .get(10, TimeUnit.SECONDS).getCode();
        } finally {
          client.close(CloseMode.GRACEFUL);
        }
      }
      assertThat(code).isEqualTo(200);
      assertThat(asked).contains(NAME);
      assertThat(peer.requests()).isEqualTo(1);
    }
  }

  @org.junit.jupiter.api.Test
  void aMissingResolverIsNamed() {
    assertThatThrownBy(() -> HttpClient5Options.builder().dnsResolver(null))
        .isInstanceOf(NullPointerException.class).hasMessage("dnsResolver cannot be null");
  }
}
