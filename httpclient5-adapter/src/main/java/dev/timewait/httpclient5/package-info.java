/**
 * timewait for Apache HttpClient 5: {@link dev.timewait.httpclient5.TimeWaitHttpClient5}
 * configures the classic and async client builders with a {@link dev.timewait.CloseStrategy}, and
 * {@link dev.timewait.httpclient5.HttpClient5Options} carries the TLS context and the other
 * settings. Everything else in this package is the adapter's own machinery.
 */
package dev.timewait.httpclient5;
