package dev.timewait.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectionRulesTest {
  private static final long YOUNG = 0;
  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

  private static ConnectionRules pooled(Retirement retirement) {
    return ConnectionRules.of(PooledKeepAlive.builder().maxRequestsPerConnection(3)
        .maxLifetime(Duration.ofMinutes(1)).retirement(retirement).build());
  }

  @Test
  void serverCloseMakesEveryRequestTheLastAndAsksTheServerToClose() {
    ConnectionRules rules = ConnectionRules.of(CloseStrategy.serverClose());
    assertThat(rules.keepAlive()).isFalse();
    assertThat(rules.isLast(1, YOUNG)).isTrue();
    assertThat(rules.mustAskServerToClose(rules.isLast(1, YOUNG))).isTrue();
    assertThat(rules.mayReuse(false, false, null, null)).isFalse();
  }

  @Test
  void resetCloseMakesEveryRequestTheLastAndAsksTheServerToCloseItsSideToo() {
    ConnectionRules rules = ConnectionRules.of(CloseStrategy.reset());
    assertThat(rules.isLast(1, YOUNG)).isTrue();
    assertThat(rules.mustAskServerToClose(rules.isLast(1, YOUNG))).isTrue();
    assertThat(rules.mayReuse(false, false, null, null)).isFalse();
  }

  @Test
  void aPooledConnectionsLastRequestIsItsCapthOrItsFirstPastItsLifetime() {
    ConnectionRules rules = pooled(Retirement.RESET);
    assertThat(rules.isLast(1, YOUNG)).isFalse();
    assertThat(rules.isLast(2, MINUTE - 1)).isFalse();
    assertThat(rules.isLast(3, YOUNG)).as("the cap").isTrue();
    assertThat(rules.isLast(1, MINUTE)).as("the lifetime").isTrue();
    assertThat(rules.isLast(1, -1)).as("age unknown").isFalse();
  }

  @Test
  void everyRetirementAsksTheServerToCloseOnlyOnThePooledConnectionsLastRequest() {
    assertThat(pooled(Retirement.SERVER_CLOSE).mustAskServerToClose(true)).isTrue();
    assertThat(pooled(Retirement.SERVER_CLOSE).mustAskServerToClose(false)).isFalse();
    assertThat(pooled(Retirement.RESET).mustAskServerToClose(true)).isTrue();
    assertThat(pooled(Retirement.RESET).mustAskServerToClose(false)).isFalse();
  }

  @Test
  void aPooledConnectionIsReusedUnlessItsRequestWasLastOrThePeerSaidNo() {
    ConnectionRules rules = pooled(Retirement.RESET);
    assertThat(rules.mayReuse(false, false, null, null)).isTrue();
    assertThat(rules.mayReuse(false, false, "keep-alive", "timeout=5, max=99")).isTrue();
    assertThat(rules.mayReuse(true, false, null, null)).as("last").isFalse();
    assertThat(rules.mayReuse(false, false, "Close", null)).as("Connection: close").isFalse();
    assertThat(rules.mayReuse(false, true, null, null)).as("HTTP/1.0").isFalse();
    assertThat(rules.mayReuse(false, true, "Keep-Alive", null)).as("HTTP/1.0 keep-alive").isTrue();
    assertThat(rules.mayReuse(false, false, null, "timeout=5, max=0")).as("max=0").isFalse();
  }

  @Test
  void theLastRequestsReasonIsTheStrategyTheCapOrTheLifetime() {
    assertThat(ConnectionRules.of(CloseStrategy.serverClose()).lastReason(1, YOUNG))
        .isEqualTo(CloseEvent.Reason.STRATEGY);
    assertThat(ConnectionRules.of(CloseStrategy.reset()).lastReason(1, YOUNG))
        .isEqualTo(CloseEvent.Reason.STRATEGY);
    ConnectionRules rules = pooled(Retirement.RESET);
    assertThat(rules.lastReason(1, YOUNG)).isNull();
    assertThat(rules.lastReason(3, YOUNG)).isEqualTo(CloseEvent.Reason.REQUEST_CAP);
    assertThat(rules.lastReason(3, MINUTE)).as("the cap first").isEqualTo(CloseEvent.Reason.REQUEST_CAP);
    assertThat(rules.lastReason(1, MINUTE)).isEqualTo(CloseEvent.Reason.LIFETIME);
    assertThat(rules.lastReason(1, -1)).as("age unknown").isNull();
  }

  @Test
  void aConnectionRetiresForItsLastRequestsReasonBeforeWhatThePeerAnnounced() {
    ConnectionRules rules = pooled(Retirement.SERVER_CLOSE);
    assertThat(rules.retireReason(null, false, null, null)).isNull();
    assertThat(rules.retireReason(null, false, "close", null)).isEqualTo(CloseEvent.Reason.PEER_ANNOUNCED);
    assertThat(rules.retireReason(null, true, null, null)).as("HTTP/1.0").isEqualTo(CloseEvent.Reason.PEER_ANNOUNCED);
    assertThat(rules.retireReason(null, false, null, "timeout=5, max=0")).isEqualTo(CloseEvent.Reason.PEER_ANNOUNCED);
    assertThat(rules.retireReason(CloseEvent.Reason.REQUEST_CAP, false, "close", null))
        .as("the server's close answers the client's").isEqualTo(CloseEvent.Reason.REQUEST_CAP);
    assertThat(ConnectionRules.of(CloseStrategy.reset()).retireReason(null, false, null, null))
        .isEqualTo(CloseEvent.Reason.STRATEGY);
  }

  @Test
  void theReasonsAgreeWithIsLastAndMayReuse() {
    ConnectionRules rules = pooled(Retirement.RESET);
    for (long requests = 1; requests <= 4; requests++) {
      for (long age : new long[] {-1, YOUNG, MINUTE - 1, MINUTE}) {
        CloseEvent.Reason last = rules.lastReason(requests, age);
        assertThat(rules.isLast(requests, age)).isEqualTo(last != null);
        for (String connection : new String[] {null, "close", "keep-alive"}) {
          assertThat(rules.retireReason(last, false, connection, null) == null)
              .isEqualTo(rules.mayReuse(last != null, false, connection, null));
        }
      }
    }
  }

  @Test
  void anExchangeEndsItsConnectionByAgreementWhenEitherSideSaidCloseOrHttp10DidNotKeepAlive() {
    assertThat(ConnectionRules.endsByAgreement("close", false, null)).isTrue();
    assertThat(ConnectionRules.endsByAgreement(null, false, "keep-alive, close")).isTrue();
    assertThat(ConnectionRules.endsByAgreement(null, true, null)).isTrue();
    assertThat(ConnectionRules.endsByAgreement(null, true, "keep-alive")).isFalse();
    assertThat(ConnectionRules.endsByAgreement("keep-alive", false, "keep-alive")).isFalse();
    assertThat(ConnectionRules.endsByAgreement(null, false, null)).isFalse();
  }

  @Test
  void connectionTokensAreMatchedWholeTrimmedAndCaseInsensitive() {
    assertThat(ConnectionRules.hasToken(" Upgrade ,  CLOSE ", "close")).isTrue();
    assertThat(ConnectionRules.hasToken("closed", "close")).isFalse();
    assertThat(ConnectionRules.hasToken("x-close", "close")).isFalse();
    assertThat(ConnectionRules.hasToken("", "close")).isFalse();
    assertThat(ConnectionRules.hasToken(",,", "close")).isFalse();
    assertThat(ConnectionRules.hasToken(null, "close")).isFalse();
  }

  @Test
  void aRequestCountUnderOneIsRejectedByNameAndValue() {
    assertThatThrownBy(() -> ConnectionRules.of(CloseStrategy.reset()).lastReason(-3, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestsIncludingThis must be > 0, but was -3");
    assertThatThrownBy(() -> ConnectionRules.of(CloseStrategy.pooled()).isLast(0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestsIncludingThis must be > 0, but was 0");
  }

  @Test
  void aNullStrategyIsRejectedByName() {
    assertThatThrownBy(() -> ConnectionRules.of(null))
        .isInstanceOf(NullPointerException.class).hasMessage("strategy cannot be null");
  }

  @Test
  void aResponseFramedByNeitherLengthNorChunkingEndsAtTheClose() {
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, null, null)).isTrue();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, "gzip", null)).as("not chunked last").isTrue();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, "chunked, gzip", "5")).isTrue();
    assertThat(ConnectionRules.bodyEndsAtClose("POST", 500, null, null)).isTrue();
    assertThat(ConnectionRules.bodyEndsAtClose("CONNECT", 407, null, null)).as("a refused tunnel").isTrue();
  }

  @Test
  void aResponseWithALengthChunkingOrNoBodyDoesNotEndAtTheClose() {
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, null, "3")).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, "chunked", null)).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, "gzip, Chunked ", null)).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 200, "gzip,chunked,", null)).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("head", 200, null, null)).as("HEAD").isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("CONNECT", 200, null, null)).as("a tunnel").isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 204, null, null)).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 304, null, null)).isFalse();
    assertThat(ConnectionRules.bodyEndsAtClose("GET", 101, null, null)).isFalse();
  }

  @Test
  void bodyEndsAtCloseNeedsTheRequestMethod() {
    assertThatThrownBy(() -> ConnectionRules.bodyEndsAtClose(null, 200, null, null))
        .isInstanceOf(NullPointerException.class).hasMessage("requestMethod cannot be null");
  }
}
