/**
 * timewait for OkHttp 5: {@link dev.timewait.okhttp.TimeWaitOkHttp} configures an {@code
 * OkHttpClient.Builder} so that the client's connections close without leaving TIME_WAIT on the
 * client.
 *
 * <pre>{@code
 * OkHttpClient client = TimeWaitOkHttp.newClient(CloseStrategy.pooled());
 * CloseStats stats = TimeWaitOkHttp.accounting(client).snapshot();
 * }</pre>
 *
 * <p>Everything here is thread-safe; see each type.
 */
package dev.timewait.okhttp;
