package dev.timewait.okhttp;

import java.io.IOException;
import java.time.Duration;
import java.io.InterruptedIOException;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application interceptor of a pooled keep-alive configuration: bounds the calls in flight,
 * and so the connections in use, to {@code maxTotal} over all routes and {@code maxPerRoute} per
 * scheme, host and port of the call's request.
 *
 * <p>A call takes one slot before its first exchange (it keeps it through retries and redirects,
 * which use one connection at a time) and gives it back when OkHttp reports {@code callEnd} or
 * {@code callFailed}: OkHttp reports those after it released the call's connection, so a waiting
 * call that then starts finds that connection idle in the pool instead of opening another. A
 * call waits for a slot at most its connect timeout ({@link OkHttpOptions#slotWait()} if
 * that is 0), polls its cancel flag (so {@code cancel()} and the call timeout end the wait), and
 * then fails with an {@link InterruptedIOException}. A call whose response is leaked never reports
 * its end; its slot comes back once the garbage collector clears the call.
 *
 * <p>Thread-safe: one instance serves every call of a client; slots are guarded by one lock.
 */
final class SlotInterceptor implements Interceptor {
  private static final Logger log = LoggerFactory.getLogger(SlotInterceptor.class);
  /** How often a waiting call checks whether it was canceled. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final int maxTotal;
  private final int maxPerRoute;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  private final ReferenceQueue<Call> collected = new ReferenceQueue<>();
  // Guarded by lock.
  private int total;
  private final Map<Route, Integer> perRoute = new HashMap<>();
  private final Set<Slot> held = new HashSet<>();

  /** Whether the per-route bound binds at all: with maxPerRoute == maxTotal the total bounds it. */
  private final boolean perRouteBound;

  /** The wait for a slot when the call has no connect timeout. */
  private final long slotWaitNanos;

  SlotInterceptor(int maxTotal, int maxPerRoute, Duration slotWait) {
    this.slotWaitNanos = slotWait.toNanos();
    this.maxTotal = maxTotal;
    this.maxPerRoute = maxPerRoute;
    this.perRouteBound = maxPerRoute < maxTotal;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Call call = chain.call();
    CallSlot callSlot = call.tag(CallSlot.class, () -> new CallSlot(this));
    if (callSlot.owner == this && callSlot.slot == null) {
      long waitNanos = chain.connectTimeoutMillis() > 0
          ? TimeUnit.MILLISECONDS.toNanos(chain.connectTimeoutMillis())
          : slotWaitNanos;
      callSlot.slot = acquire(call, route(chain.request().url()), waitNanos);
      call.addEventListener(callSlot);
    }
    return chain.proceed(chain.request());
  }

  private static Route route(HttpUrl url) {
    return new Route(url.scheme(), url.host(), url.port());
  }

  /** A route as the per-route bound counts it: built per call without concatenating strings. */
  private record Route(String scheme, String host, int port) {
    @Override
    public String toString() {
      return scheme + "://" + host + ":" + port;
    }
  }

  /** Slots in use now: for tests and diagnostics. */
  int inUse() {
    lock.lock();
    try {
      return total;
    } finally {
      lock.unlock();
    }
  }

  private Slot acquire(Call call, Route route, long waitNanos) throws IOException {
    long deadline = System.nanoTime() + waitNanos;
    lock.lock();
    try {
      while (true) {
        reclaimCollected();
        int onRoute = perRouteBound ? perRoute.getOrDefault(route, 0) : 0;
        if (total < maxTotal && onRoute < maxPerRoute) {
          total++;
          if (perRouteBound) {
            perRoute.put(route, onRoute + 1);
          }
          Slot slot = new Slot(call, route, collected);
          held.add(slot);
          return slot;
        }
        if (call.isCanceled()) {
          throw new IOException("Canceled");
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          throw new InterruptedIOException(
              "timed out after " + TimeUnit.NANOSECONDS.toMillis(waitNanos)
                  + " ms waiting for a connection slot (maxTotal " + maxTotal + ", maxPerRoute "
                  + maxPerRoute + ", " + total + " in use)");
        }
        freed.awaitNanos(Math.min(remaining, POLL_NANOS));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException("interrupted while waiting for a connection slot");
      interrupted.initCause(e);
      throw interrupted;
    } finally {
      lock.unlock();
    }
  }

  private void release(Slot slot) {
    if (!slot.released.compareAndSet(false, true)) {
      return;
    }
    lock.lock();
    try {
      if (held.remove(slot)) {
        total--;
        if (perRouteBound) {
          int onRoute = perRoute.getOrDefault(slot.route, 1) - 1;
          if (onRoute <= 0) {
            perRoute.remove(slot.route);
          } else {
            perRoute.put(slot.route, onRoute);
          }
        }
        freed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    slot.clear();
  }

  /** Frees the slots of calls that were garbage collected without ending: leaked responses. */
  private void reclaimCollected() {
    Reference<? extends Call> ref;
    while ((ref = collected.poll()) != null) {
      Slot slot = (Slot) ref;
      if (!slot.released.get()) {
        log.warn("A call to {} was never closed (leaked response); its connection slot is freed."
            + " Close every response.", slot.route);
        release(slot);
      }
    }
  }

  @Override
  public String toString() {
    return "TimeWaitOkHttp.SlotInterceptor[maxTotal=" + maxTotal + ", maxPerRoute=" + maxPerRoute
        + "]";
  }

  /** A slot, weakly bound to the call that holds it. */
  private static final class Slot extends WeakReference<Call> {
    final Route route;
    final AtomicBoolean released = new AtomicBoolean();

    Slot(Call call, Route route, ReferenceQueue<Call> queue) {
      super(call, queue);
      this.route = route;
    }
  }

  /** A call's slot, held as the call's tag; gives the slot back when the call ends. */
  private static final class CallSlot extends EventListener {
    final SlotInterceptor owner;
    volatile Slot slot;

    CallSlot(SlotInterceptor owner) {
      this.owner = owner;
    }

    @Override
    public void callEnd(Call call) {
      free();
    }

    @Override
    public void callFailed(Call call, IOException ioe) {
      free();
    }

    private void free() {
      Slot s = slot;
      if (s != null) {
        owner.release(s);
      }
    }
  }
}
