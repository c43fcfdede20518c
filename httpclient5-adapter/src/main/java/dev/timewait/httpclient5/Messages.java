package dev.timewait.httpclient5;

import dev.timewait.spi.ConnectionRules;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpMessage;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.ProtocolVersion;

/**
 * Reads from HttpCore's messages what {@link ConnectionRules} decides on; decides nothing itself.
 * Stateless.
 */
final class Messages {
  private Messages() {}

  /** Whether the exchange ends its connection by agreement ({@link ConnectionRules#endsByAgreement}). */
  static boolean endsByAgreement(HttpMessage request, HttpResponse response) {
    return ConnectionRules.endsByAgreement(
        connection(request), http10OrOlder(response), connection(response));
  }

  /** Whether the connection may carry another request ({@link ConnectionRules#mayReuse}). */
  static boolean mayReuse(ConnectionRules rules, boolean last, HttpResponse response) {
    Header keepAlive = response.getFirstHeader("Keep-Alive");
    return rules.mayReuse(last, http10OrOlder(response), connection(response),
        keepAlive == null ? null : keepAlive.getValue());
  }

  /**
   * Whether the peer lets the connection carry another request ({@link
   * ConnectionRules#peerAllowsReuse}); allocates nothing unless the response has more than one
   * {@code Connection} header.
   */
  static boolean peerAllowsReuse(HttpResponse response) {
    Header keepAlive = response.getFirstHeader("Keep-Alive");
    return ConnectionRules.peerAllowsReuse(http10OrOlder(response), connection(response),
        keepAlive == null ? null : keepAlive.getValue());
  }

  /**
   * Whether the response's body ends at the peer's close ({@link ConnectionRules#bodyEndsAtClose});
   * allocates nothing: HttpCore's {@code getFirstHeader} walks the headers in place.
   */
  static boolean bodyEndsAtClose(HttpRequest request, HttpResponse response) {
    Header transferEncoding = response.getFirstHeader(HttpHeaders.TRANSFER_ENCODING);
    Header contentLength = response.getFirstHeader(HttpHeaders.CONTENT_LENGTH);
    return ConnectionRules.bodyEndsAtClose(request.getMethod(), response.getCode(),
        transferEncoding == null ? null : transferEncoding.getValue(),
        contentLength == null ? null : contentLength.getValue());
  }

  /** Whether the request says {@code Connection: close} (the caller's own, where it is not last). */
  static boolean callerAsksClose(HttpMessage request) {
    return ConnectionRules.hasToken(connection(request), "close");
  }

  /**
   * {@code version.lessEquals(HttpVersion.HTTP_1_0)}, without the varargs array that HttpCore's
   * comparison allocates per call: the same protocol, and a major.minor of 1.0 or less.
   */
  private static boolean http10OrOlder(HttpResponse response) {
    ProtocolVersion version = response.getVersion();
    return version != null && HttpVersion.HTTP_1_0.getProtocol().equals(version.getProtocol())
        && (version.getMajor() < 1 || version.getMajor() == 1 && version.getMinor() <= 0);
  }

  /**
   * The message's {@code Connection} header values, comma-joined; null if it has none. Allocates
   * nothing unless the message has more than one: HttpCore's {@code countHeaders} and {@code
   * getFirstHeader} walk the headers in place, while {@code getHeaders} copies the matches into a
   * new list and array (about 200 bytes per call, two or three calls per exchange; issue 19).
   */
  private static String connection(HttpMessage message) {
    if (message.countHeaders(HttpHeaders.CONNECTION) <= 1) {
      Header header = message.getFirstHeader(HttpHeaders.CONNECTION);
      return header == null ? null : header.getValue();
    }
    Header[] headers = message.getHeaders(HttpHeaders.CONNECTION);
    StringBuilder joined = new StringBuilder();
    for (Header header : headers) {
      if (header.getValue() != null) {
        joined.append(header.getValue()).append(',');
      }
    }
    return joined.toString();
  }
}
