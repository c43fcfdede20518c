package dev.timewait.httpclient5;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecChainHandler;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncDataConsumer;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.CapacityChannel;

/**
 * An exec interceptor, right after HttpClient's protocol stage, that holds back an exchange's
 * completion while its connection waits for the server's FIN. The protocol stage, on completion,
 * checks the connection and discards one that is no longer open with {@code close(IMMEDIATE)},
 * which goes past the session decorator and would reset the socket (robbing the server of its
 * TIME_WAIT). Held back, the completion runs once the FIN arrived (or the bounded wait ended) and
 * the socket is closed. It also closes, here, an exchange's connection that the reuse strategy
 * kept open because its response had no body ({@link AsyncExchangeRules#keepAlive}), and gives an
 * armed connection's body that HttpClient would not consume (a redirect's, a challenge's) a
 * consumer that discards it, so that HttpClient's check of the connection at its end does not
 * reset the FIN wait.
 *
 * <p>Thread-safe: stateless beyond the thread-safe {@link AsyncConnections}.
 */
final class AsyncFinWaitExec implements AsyncExecChainHandler {
  /** The name of this interceptor in HttpClient's exec chain. */
  static final String NAME = "timewait-fin-wait";

  private final AsyncConnections connections;

  AsyncFinWaitExec(AsyncConnections connections) {
    this.connections = connections;
  }

  @Override
  public void execute(
      HttpRequest request,
      AsyncEntityProducer entityProducer,
      AsyncExecChain.Scope scope,
      AsyncExecChain chain,
      AsyncExecCallback callback) throws HttpException, IOException {
    chain.proceed(request, entityProducer, scope, new AsyncExecCallback() {
      @Override
      public AsyncDataConsumer handleResponse(HttpResponse response, EntityDetails entityDetails)
          throws HttpException, IOException {
        AsyncDataConsumer consumer = callback.handleResponse(response, entityDetails);
        if (consumer == null && entityDetails != null) {
          // A body nobody consumes: a redirect's or a challenge's that HttpClient follows or
          // answers. HttpClient then checks at the body's end whether the connection is still
          // open and discards one that is not with close(IMMEDIATE), past the decorator: an
          // armed connection, already waiting for the server's FIN there (HttpCore closes it as
          // the body ends), would be reset. A consumer that discards the body, as HttpClient
          // would, takes that check away from an armed connection only.
          AsyncConnection connection = connections.find(scope.clientContext.getEndpointDetails());
          if (connection != null && connection.armed && connections.closer().closesByServer()) {
            return Discarding.INSTANCE;
          }
        }
        return consumer;
      }

      @Override
      public void handleInformationResponse(HttpResponse response)
          throws HttpException, IOException {
        callback.handleInformationResponse(response);
      }

      @Override
      public void completed() {
        AsyncConnection connection = connections.find(scope.clientContext.getEndpointDetails());
        if (connection != null && connection.closeAfterExchange) {
          TimeWaitIOSession layer = connection.layer;
          if (layer != null) {
            layer.close(); // armed: starts the FIN wait
          }
        }
        if (connection == null || !connections.closer().runAfterFinWait(connection, callback::completed)) {
          callback.completed();
        }
      }

      @Override
      public void failed(Exception cause) {
        callback.failed(cause);
      }
    });
  }

  /** Discards a body, as HttpClient does with one it has no consumer for. Stateless. */
  private enum Discarding implements AsyncDataConsumer {
    INSTANCE;

    @Override
    public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
      capacityChannel.update(Integer.MAX_VALUE);
    }

    @Override
    public void consume(ByteBuffer src) {
      src.position(src.limit());
    }

    @Override
    public void streamEnd(List<? extends Header> trailers) {}

    @Override
    public void releaseResources() {}
  }
}
