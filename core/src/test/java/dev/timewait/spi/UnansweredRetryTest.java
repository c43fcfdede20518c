package dev.timewait.spi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UnansweredRetryTest {
  @Test
  void onlyIdempotentMethodsAreSentAgain() {
    for (String method : new String[] {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "get"}) {
      assertThat(UnansweredRetry.mayRetry(method, true, true, true, false)).as(method).isTrue();
    }
    for (String method : new String[] {"POST", "PATCH", "CONNECT", "PROPFIND", null}) {
      assertThat(UnansweredRetry.mayRetry(method, true, true, true, false)).as(method).isFalse();
    }
  }

  @Test
  void aBodyThatCannotBeSentAgainAFreshConnectionAnAnswerOrAnEarlierRetryEachRuleItOut() {
    assertThat(UnansweredRetry.mayRetry("PUT", false, true, true, false)).as("one-shot body").isFalse();
    assertThat(UnansweredRetry.mayRetry("GET", true, false, true, false)).as("fresh connection").isFalse();
    assertThat(UnansweredRetry.mayRetry("GET", true, true, false, false)).as("response began").isFalse();
    assertThat(UnansweredRetry.mayRetry("GET", true, true, true, true)).as("retried once").isFalse();
  }

  @Test
  void aRequestThatNeverWentOutIsSentAgainWhateverItsMethodOnceAndWithARepeatableBody() {
    assertThat(UnansweredRetry.mayResendUnsent(true, false)).as("never sent").isTrue();
    assertThat(UnansweredRetry.mayResendUnsent(false, false)).as("one-shot body").isFalse();
    assertThat(UnansweredRetry.mayResendUnsent(true, true)).as("retried once").isFalse();
  }
}
