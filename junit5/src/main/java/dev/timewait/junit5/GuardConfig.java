package dev.timewait.junit5;

import java.time.Duration;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/** One guard's settings, from {@link GuardTimeWait} or {@link TimeWaitGuard.Builder}. Immutable. */
final class GuardConfig {
  final DestinationSpec destination;
  final int allowed;
  final GuardScope scope;
  final Duration settle;

  GuardConfig(DestinationSpec destination, int allowed, GuardScope scope, Duration settle) {
    this.destination = destination;
    this.allowed = allowed;
    this.scope = scope;
    this.settle = settle;
  }

  /**
   * The settings an annotation gives.
   *
   * @throws ExtensionConfigurationException naming {@code where} and the bad attribute
   */
  static GuardConfig of(GuardTimeWait a, String where) {
    String prefix = "@GuardTimeWait on " + where + ": ";
    boolean hasPort = a.port() != 0;
    boolean hasSupplier = !a.portSupplier().isEmpty();
    if (hasPort == hasSupplier) {
      throw new ExtensionConfigurationException(prefix + (hasPort
          ? "give either port or portSupplier, not both"
          : "name the destination with port or portSupplier"));
    }
    if (hasPort && (a.port() < 1 || a.port() > 65535)) {
      throw new ExtensionConfigurationException(prefix + "port must be between 1 and 65535, but was " + a.port());
    }
    if (a.allowed() < 0) {
      throw new ExtensionConfigurationException(prefix + "allowed must be >= 0, but was " + a.allowed());
    }
    if (a.settleMillis() < 0 || a.settleMillis() > TimeWaitGuard.MAX_SETTLE.toMillis()) {
      throw new ExtensionConfigurationException(prefix + "settleMillis must be between 0 and "
          + TimeWaitGuard.MAX_SETTLE.toMillis() + ", but was " + a.settleMillis());
    }
    String host = a.host().trim();
    DestinationSpec destination = hasPort
        ? DestinationSpec.of(a.port(), host)
        : DestinationSpec.member(a.portSupplier(), host);
    return new GuardConfig(destination, a.allowed(), a.scope(), Duration.ofMillis(a.settleMillis()));
  }

  @Override
  public String toString() {
    return "GuardConfig[destination=" + destination + ", allowed=" + allowed + ", scope=" + scope
        + ", settle=" + settle + "]";
  }
}
