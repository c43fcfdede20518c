package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import kotlin.jvm.JvmClassMappingKt;
import kotlin.jvm.functions.Function0;
import kotlin.reflect.KClass;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application interceptor of a pooled keep-alive configuration: bounds the calls in flight,
 * and so the connections in use, to {@code maxTotal} over all routes and {@code maxPerRoute} per
 * scheme, host and port of the call's request; given an accounting, it also sends a request once
 * more when its reused connection failed unanswered ({@link UnansweredRetryInterceptor}'s rule),
 * so that one interceptor, not two, stands in OkHttp's chain (OkHttp copies its chain object for
 * every interceptor of every call).
 *
 * <p>A call takes one slot before its first exchange (it keeps it through retries and redirects,
 * which use one connection at a time) and gives it back when OkHttp reports {@code callEnd} or
 * {@code callFailed}: OkHttp reports those after it released the call's connection, so a waiting
 * call that then starts finds that connection idle in the pool instead of opening another. A
 * call waits for a slot at most its connect timeout ({@link OkHttpOptions#slotWait()} if
 * that is 0), polls its cancel flag (so {@code cancel()} and the call timeout end the wait), and
 * then fails with an {@link InterruptedIOException}. Waiting calls get slots in the order they
 * came, each handed its slot by the call that freed it (a freed slot wakes one waiting call, not
 * all of them, and no call that comes later takes it first); with a per-route bound, a waiting call
 * whose route is full lets those behind it go first. A call whose response is leaked never reports
 * its end; its slot comes back once the garbage collector clears the call. A call made inside
 * another call on its thread (an {@code Authenticator} fetching a token) takes a slot over the
 * bound rather than wait for its own thread's.
 *
 * <p>Per call this allocates one {@link CallSlot} (the slot, the call's tag, and the state of its
 * unanswered retry) and the tag's node; the listener that hears the call's end is one instance.
 *
 * <p>Thread-safe: one instance serves every call of a client; slots are guarded by one lock.
 */
final class SlotInterceptor implements Interceptor {
  private static final Logger log = LoggerFactory.getLogger(SlotInterceptor.class);
  /** How often a waiting call checks whether it was canceled. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  /**
   * The call's tag key, made once: OkHttp's {@code tag(Class, ...)} turns the {@code Class} into
   * a Kotlin {@code KClass} (a new {@code ClassReference}) on every call (issue 19: allocation per
   * request).
   */
  static final KClass<CallSlot> CALL_SLOT = JvmClassMappingKt.getKotlinClass(CallSlot.class);

  private final int maxTotal;
  private final int maxPerRoute;
  private final ReentrantLock lock = new ReentrantLock();
  private final ReferenceQueue<Call> collected = new ReferenceQueue<>();
  // Guarded by lock.
  private int total;
  private final Map<Route, Integer> perRoute = new HashMap<>();
  /**
   * Calls waiting for a slot, in the order they came: a list threaded through them. A freed slot
   * goes to the first that may take it. Before, every freed slot woke every waiting call to race
   * for the lock (10,000 virtual threads waiting for 20 slots: 10,000 wake-ups per freed slot),
   * and a call that came later could take the slot first, so that waiting calls timed out.
   */
  private Waiter firstWaiter;
  private Waiter lastWaiter;
  /**
   * The slots held, as a list threaded through them: it keeps each slot (a weak reference to its
   * call) strongly reachable until released, so that a leaked call's slot is enqueued, without a
   * set entry per call.
   */
  private CallSlot held;

  /**
   * Hears every call's end: one instance for all calls, which finds the call's slot by its tag
   * (OkHttp adds a listener that is alone on its call without allocating anything).
   */
  private final EventListener ends = new EventListener() {
    @Override
    public void callEnd(Call call) {
      free(call);
    }

    @Override
    public void callFailed(Call call, IOException ioe) {
      free(call);
    }

    /**
     * OkHttp follows a redirect or an authentication challenge with a new request in the same
     * call: a failure from then on is the follow-up's, and the unanswered retry, which stands
     * outside OkHttp's follow-ups and would send the call's first request again (a PUT or DELETE
     * the server already answered 303), no longer applies.
     */
    @Override
    public void followUpDecision(Call call, Response networkResponse, Request nextRequest) {
      CallSlot slot = slotOf(call);
      if (nextRequest != null && slot != null) {
        slot.followedUp = true;
      }
    }

    /**
     * OkHttp sends the failed exchange again itself ({@code retryOnConnectionFailure}): whether
     * the exchange was unanswered is the next one's to say, not a failure before it reaches the
     * network (a refused connect, a TLS handshake).
     */
    @Override
    public void retryDecision(Call call, IOException exception, boolean retry) {
      CallSlot slot = slotOf(call);
      if (retry && slot != null) {
        slot.unanswered = false;
      }
    }
  };

  /** Whether the per-route bound binds at all: with maxPerRoute == maxTotal the total bounds it. */
  private final boolean perRouteBound;

  /** The wait for a slot when the call has no connect timeout. */
  private final long slotWaitNanos;

  /** Where an unanswered retry is counted; null: this interceptor does not retry. */
  private final CloseAccounting retryAccounting;

  /**
   * @param retryAccounting null for the bound alone; else the bound and the unanswered retry,
   *     counted there
   */
  SlotInterceptor(int maxTotal, int maxPerRoute, Duration slotWait, CloseAccounting retryAccounting) {
    this.slotWaitNanos = slotWait.toNanos();
    this.maxTotal = maxTotal;
    this.maxPerRoute = maxPerRoute;
    this.perRouteBound = maxPerRoute < maxTotal;
    this.retryAccounting = retryAccounting;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    if (chain.request().header("Upgrade") != null) {
      // A WebSocket (newWebSocket runs the application interceptors too) or another upgrade: its
      // call ends only when the upgraded connection does, so a slot would be held for the
      // WebSocket's life, and maxTotal live WebSockets would stall every other call. One
      // long-lived connection churns no ports; OkHttp leaves WebSockets out of its per-host bound
      // for the same reason. Not retried either: it leaves HTTP once answered.
      return chain.proceed(chain.request());
    }
    Call call = chain.call();
    CallSlot slot = slotOf(call);
    if (slot == null) {
      long waitNanos = chain.connectTimeoutMillis() > 0
          ? TimeUnit.MILLISECONDS.toNanos(chain.connectTimeoutMillis())
          : slotWaitNanos;
      HttpUrl url = chain.request().url();
      // The per-route key only where the per-route bound binds (not by default: maxPerRoute ==
      // maxTotal); a leaked call's warning names the URL's host either way.
      CallSlot acquired = acquire(call, url, perRouteBound ? route(url) : null, waitNanos);
      // The slot is its own tag factory: no lambda per call.
      slot = call.tag(CALL_SLOT, acquired);
      if (slot != acquired) {
        release(acquired); // the call had a slot of another configuration's (never by design)
      } else {
        call.addEventListener(ends);
      }
    }
    // Within this, a call made on this thread (an Authenticator's, an interceptor's) is nested in
    // this one: its thread holds this slot while it waits for one of its own.
    boolean outer = !slot.proceeding;
    slot.proceeding = true;
    try {
      if (retryAccounting == null) {
        return chain.proceed(chain.request());
      }
      return UnansweredRetryInterceptor.proceed(chain, slot, retryAccounting);
    } finally {
      if (outer) {
        slot.proceeding = false;
      }
    }
  }

  private void free(Call call) {
    CallSlot slot = slotOf(call);
    if (slot != null) {
      release(slot);
    }
  }

  /** The call's slot of this interceptor's, or null (none, or another configuration's). */
  private CallSlot slotOf(Call call) {
    CallSlot slot = call.tag(CALL_SLOT);
    return slot != null && slot.owner == this ? slot : null;
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

  private CallSlot acquire(Call call, HttpUrl url, Route route, long waitNanos) throws IOException {
    long deadline = System.nanoTime() + waitNanos;
    Waiter waiter;
    lock.lock();
    try {
      reclaimCollected();
      // Free slots left after a release are slots no waiting call may take (each release hands
      // its slot to the first waiting call that may take it): a new call takes one as it comes.
      CallSlot slot = tryTake(call, url, route, Thread.currentThread());
      if (slot != null) {
        return slot;
      }
      if (nestedOnThisThread()) {
        // A call made inside another call on its thread (an Authenticator or interceptor that
        // fetches a token with the same client, as OkHttp's recipes do): it would wait for the
        // slot its own thread holds, for its whole wait, and fail. Plain OkHttp bounds no calls;
        // the nested call goes over the bound. (A thread that merely holds an open response
        // waits, as any other caller: closing it frees the slot.)
        log.debug("a call to {} made while its thread holds a slot goes over maxTotal {}",
            url.redact(), maxTotal);
        return take(call, url, route, Thread.currentThread());
      }
      checkWait(call, waitNanos, deadline);
      waiter = new Waiter(Thread.currentThread(), call, url, route);
      waiter.previous = lastWaiter;
      if (lastWaiter != null) {
        lastWaiter.next = waiter;
      } else {
        firstWaiter = waiter;
      }
      lastWaiter = waiter;
    } finally {
      lock.unlock();
    }
    while (true) {
      CallSlot granted = waiter.granted;
      if (granted != null) {
        return granted;
      }
      // Parked without the lock; woken by the call that hands over a slot, or every POLL_NANOS
      // to see whether the call was canceled or timed out, or a leaked call's slot came back
      // (its release hands it over, maybe to this call).
      Reference<? extends Call> leaked = collected.poll();
      if (leaked != null) {
        reclaim((CallSlot) leaked);
        continue;
      }
      if (call.isCanceled() || Thread.currentThread().isInterrupted()
          || deadline - System.nanoTime() <= 0) {
        lock.lock();
        try {
          if (waiter.granted == null) {
            try {
              if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a connection slot");
              }
              checkWait(call, waitNanos, deadline);
            } catch (IOException e) {
              unlinkWaiter(waiter);
              throw e;
            }
          }
        } finally {
          lock.unlock();
        }
        continue;
      }
      LockSupport.parkNanos(this, Math.min(deadline - System.nanoTime(), POLL_NANOS));
    }
  }

  /** Fails a call that may wait no longer: canceled, or past its wait. Under the lock. */
  private void checkWait(Call call, long waitNanos, long deadline) throws IOException {
    if (call.isCanceled()) {
      throw new IOException("Canceled");
    }
    if (deadline - System.nanoTime() <= 0) {
      throw new InterruptedIOException(
          "timed out after " + TimeUnit.NANOSECONDS.toMillis(waitNanos)
              + " ms waiting for a connection slot (maxTotal " + maxTotal + ", maxPerRoute "
              + maxPerRoute + ", " + total + " in use)");
    }
  }

  /** A slot for the call if one is free for its route; null if not. Under the lock. */
  private CallSlot tryTake(Call call, HttpUrl url, Route route, Thread holder) {
    int onRoute = perRouteBound ? perRoute.getOrDefault(route, 0) : 0;
    if (total >= maxTotal || onRoute >= maxPerRoute) {
      return null;
    }
    return take(call, url, route, holder);
  }

  /** Whether this thread is inside a call that holds a slot of this interceptor's. Under the lock. */
  private boolean nestedOnThisThread() {
    Thread me = Thread.currentThread();
    for (CallSlot s = held; s != null; s = s.next) {
      if (s.holder == me && s.proceeding) {
        return true;
      }
    }
    return false;
  }

  /** Takes a slot for the call, bound or not, held by {@code holder}'s thread. Under the lock. */
  private CallSlot take(Call call, HttpUrl url, Route route, Thread holder) {
    total++;
    if (perRouteBound) {
      perRoute.merge(route, 1, Integer::sum);
    }
    CallSlot slot = new CallSlot(this, call, url, route, holder, collected);
    slot.next = held;
    if (held != null) {
      held.previous = slot;
    }
    held = slot;
    return slot;
  }

  /** Hands free slots to the waiting calls that may take them, first come first. Under the lock. */
  private void handOver() {
    for (Waiter w = firstWaiter; w != null && total < maxTotal; ) {
      Waiter next = w.next;
      CallSlot slot = tryTake(w.call, w.url, w.route, w.thread);
      if (slot != null) {
        unlinkWaiter(w);
        w.granted = slot;
        LockSupport.unpark(w.thread);
      }
      w = next;
    }
  }

  /** Takes {@code waiter} out of the waiting list. Under the lock. */
  private void unlinkWaiter(Waiter waiter) {
    if (waiter.previous != null) {
      waiter.previous.next = waiter.next;
    } else if (firstWaiter == waiter) {
      firstWaiter = waiter.next;
    }
    if (waiter.next != null) {
      waiter.next.previous = waiter.previous;
    } else if (lastWaiter == waiter) {
      lastWaiter = waiter.previous;
    }
    waiter.previous = null;
    waiter.next = null;
  }

  /** A call waiting for a slot: a link of the waiting list (links guarded by the lock). */
  private static final class Waiter {
    final Thread thread;
    final Call call;
    final HttpUrl url;
    final Route route;
    /** The slot handed over to this call; null while it waits. */
    volatile CallSlot granted;
    Waiter previous;
    Waiter next;

    Waiter(Thread thread, Call call, HttpUrl url, Route route) {
      this.thread = thread;
      this.call = call;
      this.url = url;
      this.route = route;
    }
  }

  private void release(CallSlot slot) {
    if (!RELEASED.compareAndSet(slot, 0, 1)) {
      return;
    }
    lock.lock();
    try {
      // Only the one release that flipped the flag gets here: the slot is still in the list.
      unlink(slot);
      total--;
      if (perRouteBound) {
        int onRoute = perRoute.getOrDefault(slot.route, 1) - 1;
        if (onRoute <= 0) {
          perRoute.remove(slot.route);
        } else {
          perRoute.put(slot.route, onRoute);
        }
      }
      if (firstWaiter != null) {
        handOver();
      }
    } finally {
      lock.unlock();
    }
    slot.clear();
  }

  /** Takes {@code slot} out of the held list. Under the lock. */
  private void unlink(CallSlot slot) {
    if (slot.previous != null) {
      slot.previous.next = slot.next;
    } else {
      held = slot.next;
    }
    if (slot.next != null) {
      slot.next.previous = slot.previous;
    }
    slot.previous = null;
    slot.next = null;
  }

  /** Frees the slots of calls that were garbage collected without ending: leaked responses. */
  private void reclaimCollected() {
    Reference<? extends Call> ref;
    while ((ref = collected.poll()) != null) {
      reclaim((CallSlot) ref);
    }
  }

  /** Frees the slot of a call that was garbage collected, unless it ended before. */
  private void reclaim(CallSlot slot) {
    if (slot.released == 0) {
      log.warn("A call to {}://{}:{} was never closed (leaked response); its connection slot is"
          + " freed. Close every response.", slot.url.scheme(), slot.url.host(), slot.url.port());
      release(slot);
    }
  }

  @Override
  public String toString() {
    return "TimeWaitOkHttp.SlotInterceptor[maxTotal=" + maxTotal + ", maxPerRoute=" + maxPerRoute
        + (retryAccounting != null ? ", retryUnanswered" : "") + "]";
  }

  private static final AtomicIntegerFieldUpdater<CallSlot> RELEASED =
      AtomicIntegerFieldUpdater.newUpdater(CallSlot.class, "released");

  /**
   * A call's slot, weakly bound to the call (so that a leaked call's slot comes back), a link of
   * its interceptor's list of held slots (links guarded by the interceptor's lock), the call's tag,
   * and what the call's exchanges told of their failures for the unanswered retry ({@link
   * CloseInterceptor} notes them, {@link UnansweredRetryInterceptor} reads them). One object per
   * call for all of that: a slot is taken before the call's first exchange.
   */
  static final class CallSlot extends WeakReference<Call> implements Function0<CallSlot> {
    final SlotInterceptor owner;
    /** The per-route key, or null where no per-route bound applies. */
    final Route route;
    /** The destination, for the leaked-call warning. */
    final HttpUrl url;
    /** 1 once released (RELEASED): a field, not an AtomicBoolean per call. */
    volatile int released;
    CallSlot previous;
    CallSlot next;
    /** The last exchange failed on a reused connection before any response byte. */
    volatile boolean unanswered;
    /** The call was already sent again once for that reason. */
    volatile boolean retried;
    /** OkHttp followed a response of this call with another request (a redirect, a challenge). */
    volatile boolean followedUp;
    /** The thread that took the slot, the call's (its interceptors run there). */
    final Thread holder;
    /** The call is inside this interceptor's proceed, on {@link #holder}: only that thread writes it. */
    boolean proceeding;

    private CallSlot(SlotInterceptor owner, Call call, HttpUrl url, Route route, Thread holder,
        ReferenceQueue<Call> queue) {
      super(call, queue);
      this.owner = owner;
      this.route = route;
      this.url = url;
      this.holder = holder;
    }

    /** As the tag's factory: this slot. */
    @Override
    public CallSlot invoke() {
      return this;
    }
  }
}
