package dev.timewait.diagnostics;

import dev.timewait.CloseStrategy;
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
 * @param rule the row of the advisor's table that matched, e.g. {@code "no keep-alive, resets
 *     acceptable, over budget"}
 * @param reasons why, one sentence each
 * @param plainCloseLimitPerSecond the most new connections per second a client that closes first
 *     can open to one destination, with TIME_WAIT holding each port for 60 s
 * @param twReuseHelps whether {@code tcp_tw_reuse} can take over TIME_WAIT ports for this workload
 */
public record StrategyAdvice(
    CloseStrategy strategy,
    String rule,
    List<String> reasons,
    double plainCloseLimitPerSecond,
    boolean twReuseHelps) {

  /**
   * Validates: no component is null. Made by {@link StrategyAdvisor#advise}; a later version may
   * add components, which changes this constructor.
   *
   * @param strategy the recommended strategy, ready to use
   * @param rule the row of the advisor's table that matched, e.g. {@code "no keep-alive, resets
   *     acceptable, over budget"}
   * @param reasons why, one sentence each
   * @param plainCloseLimitPerSecond the most new connections per second a client that closes first
   *     can open to one destination, with TIME_WAIT holding each port for 60 s
   * @param twReuseHelps whether {@code tcp_tw_reuse} can take over TIME_WAIT ports for this workload
   */
  public StrategyAdvice {
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(rule, "rule");
    Preconditions.checkNotNull(reasons, "reasons");
    reasons = List.copyOf(reasons);
  }

  /**
   * {@return the strategy in words: {@code pooled keep-alive retired by reset}, {@code pooled
   * keep-alive retired by server close}, {@code reset close} or {@code server close}}
   */
  public String inWords() {
    return switch (kind()) {
      case POOLED -> "pooled keep-alive retired by "
          + (strategy.retirement() == Retirement.RESET ? "reset" : "server close");
      case RESET -> "reset close";
      case SERVER_CLOSE -> "server close";
    };
  }

  /** {@return which strategy is recommended: the strategy's {@link CloseStrategy#kind()}} */
  public CloseStrategy.Kind kind() {
    return strategy.kind();
  }

  /**
   * {@return the Java expression that makes the strategy: {@code CloseStrategy.reset()}, {@code
   * CloseStrategy.serverClose()} or {@code PooledKeepAlive.builder().retirement(...).build()}}
   */
  public String inCode() {
    return switch (kind()) {
      case POOLED -> "PooledKeepAlive.builder().retirement(Retirement."
          + strategy.retirement().name() + ").build()";
      case RESET -> "CloseStrategy.reset()";
      case SERVER_CLOSE -> "CloseStrategy.serverClose()";
    };
  }

  /** {@return the advice as text: the strategy, then one line per reason} */
  public String explanation() {
    StringBuilder sb = new StringBuilder("Recommended: ").append(kind().id());
    if (kind() == CloseStrategy.Kind.POOLED) {
      sb.append(" (retirement ").append(strategy.retirement()).append(")");
    }
    sb.append('\n');
    for (String r : reasons) {
      sb.append("- ").append(r).append('\n');
    }
    return sb.toString();
  }
}
