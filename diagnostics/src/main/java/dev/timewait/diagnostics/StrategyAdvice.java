package dev.timewait.diagnostics;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.ResetClose;
import dev.timewait.Retirement;
import dev.timewait.internal.Preconditions;
import java.util.List;

/**
 * What {@link StrategyAdvisor} recommends: a ready {@link CloseStrategy} and the reasons, in
 * plain words, in the order they were weighed.
 *
 * <pre>{@code
 * StrategyAdvice advice = StrategyAdvisor.advise(KernelSettings.read(), Workload.builder().build());
 * System.out.println(advice.explanation());
 * CloseStrategy strategy = advice.strategy();
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param strategy the recommended strategy, ready to use
 * @param kind the strategy's {@link CloseStrategy#name()}: {@code server-close}, {@code reset} or
 *     {@code pooled}
 * @param rule the row of the advisor's table that matched, e.g. {@code "no keep-alive, resets
 *     acceptable, over budget"}
 * @param reasons why, one sentence each
 * @param plainCloseLimitPerSecond the most new connections per second a client that closes first
 *     can open to one destination, with TIME_WAIT holding each port for 60 s
 * @param twReuseHelps whether {@code tcp_tw_reuse} can take over TIME_WAIT ports for this workload
 */
public record StrategyAdvice(
    CloseStrategy strategy,
    String kind,
    String rule,
    List<String> reasons,
    double plainCloseLimitPerSecond,
    boolean twReuseHelps) {

  /**
   * Validates: no component is null.
   *
   * @param strategy the recommended strategy, ready to use
   * @param kind the strategy's {@link CloseStrategy#name()}: {@code server-close}, {@code reset} or
   *     {@code pooled}
   * @param rule the row of the advisor's table that matched, e.g. {@code "no keep-alive, resets
   *     acceptable, over budget"}
   * @param reasons why, one sentence each
   * @param plainCloseLimitPerSecond the most new connections per second a client that closes first
   *     can open to one destination, with TIME_WAIT holding each port for 60 s
   * @param twReuseHelps whether {@code tcp_tw_reuse} can take over TIME_WAIT ports for this workload
   */
  public StrategyAdvice {
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(kind, "kind");
    Preconditions.checkNotNull(rule, "rule");
    Preconditions.checkNotNull(reasons, "reasons");
    reasons = List.copyOf(reasons);
  }

  /**
   * {@return the strategy in words: {@code pooled keep-alive retired by reset}, {@code pooled
   * keep-alive retired by server close}, {@code reset close} or {@code server close}}
   */
  public String inWords() {
    if (strategy instanceof PooledKeepAlive p) {
      return "pooled keep-alive retired by "
          + (p.retirement() == Retirement.RESET ? "reset" : "server close");
    }
    return strategy instanceof ResetClose ? "reset close" : "server close";
  }

  /**
   * {@return the Java expression that makes the strategy: {@code CloseStrategy.reset()}, {@code
   * CloseStrategy.serverClose()} or {@code PooledKeepAlive.builder().retirement(...).build()}}
   */
  public String inCode() {
    if (strategy instanceof PooledKeepAlive p) {
      return "PooledKeepAlive.builder().retirement(Retirement." + p.retirement().name()
          + ").build()";
    }
    return strategy instanceof ResetClose ? "CloseStrategy.reset()"
        : "CloseStrategy.serverClose()";
  }

  /** {@return the advice as text: the strategy, then one line per reason} */
  public String explanation() {
    StringBuilder sb = new StringBuilder("Recommended: ").append(kind);
    if (strategy instanceof PooledKeepAlive p) {
      sb.append(" (retirement ").append(p.retirement()).append(")");
    }
    sb.append('\n');
    for (String r : reasons) {
      sb.append("- ").append(r).append('\n');
    }
    return sb.toString();
  }
}
