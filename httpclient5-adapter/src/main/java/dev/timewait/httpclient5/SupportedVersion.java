package dev.timewait.httpclient5;

import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.util.VersionInfo;

/**
 * The HttpClient 5 releases the adapter supports: 5.5 and later 5.x (README "Supported versions").
 * 5.4 links (its socket strategies are there) but its async client re-validates idle connections
 * without HttpCore 5.4's stale check and resets server closes over TLS (6 of 88 contract tests
 * failed on 5.4.4), so a link check alone would configure it and quietly lose the guarantees; the
 * release HttpClient states in its own {@code org/apache/hc/client5/version.properties} is read
 * once, through HttpCore's public {@code VersionInfo}. Stateless; thread-safe.
 */
final class SupportedVersion {
  /** The oldest supported release, major and minor. */
  static final int FLOOR_MAJOR = 5;
  static final int FLOOR_MINOR = 5;

  /** The release on the class path, or null where HttpClient does not say (a repackaged jar). */
  private static final String ON_CLASS_PATH = releaseOnClassPath();

  private SupportedVersion() {}

  /** Throws when the HttpClient on the class path says it is older than the floor. */
  static void check() {
    if (isBelowFloor(ON_CLASS_PATH)) {
      throw unsupported(ON_CLASS_PATH + " is on the class path", null);
    }
  }

  /** The error for a client that failed to link (a release so old or so new that a type moved). */
  static IllegalStateException unsupported(LinkageError cause) {
    return unsupported("the one on the class path ("
        + (ON_CLASS_PATH == null ? "release unknown" : ON_CLASS_PATH) + ") failed to link: " + cause, cause);
  }

  private static IllegalStateException unsupported(String found, Throwable cause) {
    return new IllegalStateException("timewait-httpclient5 needs HttpClient " + FLOOR_MAJOR + "."
        + FLOOR_MINOR + " or later 5.x (org.apache.httpcomponents.client5:httpclient5), but " + found
        + "; manage httpclient5 to " + FLOOR_MAJOR + "." + FLOOR_MINOR
        + "+ (5.6 tested in full) in your build (Spring Boot pins its own: httpclient5.version)", cause);
  }

  /**
   * Whether {@code release} ({@code 5.4.4}, {@code 5.5-beta1}) is a 5.x older than the floor;
   * false for null or anything that does not start with major.minor: not knowing is no reason
   * to refuse.
   */
  static boolean isBelowFloor(String release) {
    if (release == null) {
      return false;
    }
    String[] parts = release.split("[.-]", 3);
    if (parts.length < 2) {
      return false;
    }
    try {
      int major = Integer.parseInt(parts[0]);
      int minor = Integer.parseInt(parts[1]);
      return major == FLOOR_MAJOR && minor < FLOOR_MINOR;
    } catch (NumberFormatException unknown) {
      return false;
    }
  }

  private static String releaseOnClassPath() {
    VersionInfo info = VersionInfo.loadVersionInfo(
        "org.apache.hc.client5", HttpClientBuilder.class.getClassLoader());
    String release = info == null ? null : info.getRelease();
    return release == null || VersionInfo.UNAVAILABLE.equals(release) ? null : release;
  }
}
