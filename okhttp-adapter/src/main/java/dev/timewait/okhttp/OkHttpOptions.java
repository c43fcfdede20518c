package dev.timewait.okhttp;

import dev.timewait.PooledKeepAlive;
import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link TimeWaitOkHttp#configure(okhttp3.OkHttpClient.Builder,
 * dev.timewait.CloseStrategy, dev.timewait.CloseAccounting, OkHttpOptions)} beyond the strategy:
 * the OkHttp counterpart of {@code HttpClient5Options}. Everything else (timeouts, TLS, proxy) is
 * set on OkHttp's own builder.
 *
 * <pre>{@code
 * OkHttpOptions options = OkHttpOptions.builder().allowHttp2(true).build();
 * }</pre>
 *
 * <p>Thread-safe: immutable.
 */
public final class OkHttpOptions {
  /**
   * The default {@link #slotWait()}: 10 seconds, OkHttp's default connect timeout.
   */
  public static final Duration DEFAULT_SLOT_WAIT = Duration.ofSeconds(10);

  /**
   * The longest {@link #slotWait()}: 24 hours, core's bound on every duration ({@link
   * PooledKeepAlive#MAX_DURATION}); a longer one would overflow the wait's nanosecond clock.
   */
  public static final Duration MAX_SLOT_WAIT = PooledKeepAlive.MAX_DURATION;

  /** Whether HTTP/2 may be negotiated by default: false. */
  public static final boolean DEFAULT_ALLOW_HTTP2 = NotInlined.of(false);

  // After every default above: the builder's fields start from them.
  private static final OkHttpOptions DEFAULTS = builder().build();

  private final Duration slotWait;
  private final boolean allowHttp2;

  private OkHttpOptions(Builder builder) {
    this.slotWait = builder.slotWait;
    this.allowHttp2 = builder.allowHttp2;
  }

  /**
   * The defaults: {@link #DEFAULT_SLOT_WAIT} and {@link #DEFAULT_ALLOW_HTTP2}.
   *
   * @return the defaults
   */
  public static OkHttpOptions defaults() {
    return DEFAULTS;
  }

  /** {@return a builder that starts from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return a builder that starts from these options} */
  public Builder toBuilder() {
    return new Builder().slotWait(slotWait).allowHttp2(allowHttp2);
  }

  /**
   * Pooled keep-alive: how long a call waits for a free slot (the adapter bounds the calls in
   * flight to {@code maxTotal}) when the client's connect timeout is 0 (none); otherwise the connect
   * timeout bounds the wait.
   *
   * @return the longest wait for a slot without a connect timeout
   */
  public Duration slotWait() {
    return slotWait;
  }

  /**
   * Whether OkHttp may negotiate HTTP/2 (ALPN) rather than speak HTTP/1.1 only. Only pooled
   * keep-alive with {@code RESET} retirement allows it: HTTP/2 has no {@code Connection: close},
   * so server close cannot be asked for; the request cap is then approximate (calls multiplexed
   * before the capped one was answered finish on the connection too).
   *
   * @return whether HTTP/2 may be negotiated
   */
  public boolean allowHttp2() {
    return allowHttp2;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OkHttpOptions
        && ((OkHttpOptions) o).slotWait.equals(slotWait)
        && ((OkHttpOptions) o).allowHttp2 == allowHttp2;
  }

  @Override
  public int hashCode() {
    return Objects.hash(slotWait, allowHttp2);
  }

  @Override
  public String toString() {
    return "OkHttpOptions[slotWait=" + slotWait + ", allowHttp2=" + allowHttp2 + "]";
  }

  /** Builds {@link OkHttpOptions}. Not thread-safe: use one builder from one thread. */
  public static final class Builder {
    private Duration slotWait = DEFAULT_SLOT_WAIT;
    private boolean allowHttp2 = DEFAULT_ALLOW_HTTP2;

    private Builder() {}

    /**
     * See {@link OkHttpOptions#slotWait()}: more than 0 and at most {@link #MAX_SLOT_WAIT};
     * default {@link #DEFAULT_SLOT_WAIT}.
     *
     * @param slotWait the longest wait for a slot without a connect timeout
     * @return this builder
     */
    public Builder slotWait(Duration slotWait) {
      this.slotWait = Preconditions.checkPositive(slotWait, MAX_SLOT_WAIT, "slotWait");
      return this;
    }

    /**
     * See {@link OkHttpOptions#allowHttp2()}; default {@link #DEFAULT_ALLOW_HTTP2}.
     *
     * @param allowHttp2 whether HTTP/2 may be negotiated
     * @return this builder
     */
    public Builder allowHttp2(boolean allowHttp2) {
      this.allowHttp2 = allowHttp2;
      return this;
    }

    /** {@return the options, which later changes to this builder do not affect} */
    public OkHttpOptions build() {
      return new OkHttpOptions(this);
    }
  }
}
