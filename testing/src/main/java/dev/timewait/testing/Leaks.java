package dev.timewait.testing;

import dev.timewait.diagnostics.TcpFilter;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.diagnostics.TcpTable;
import dev.timewait.internal.Preconditions;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * What a test can check for leaks: open file descriptors, live threads, threads blocked in the
 * library's sockets, and the kernel's sockets left towards a peer. Stateless and thread-safe.
 */
public final class Leaks {

  /**
   * The longest bound the testing kit's waits accept ({@link #await}, {@link KernelTcp}'s awaits,
   * {@link ClientClosesFirst#run}): 1 hour. A longer one is a mistake in the test, and one past
   * about 292 years would overflow the waits' nanosecond clock.
   */
  public static final Duration MAX_WAIT = Duration.ofHours(1);

  /** How often {@link #await(BooleanSupplier, Duration)} checks its condition. */
  private static final Duration DEFAULT_POLL = Duration.ofMillis(20);
  private static final Duration MAX_POLL = Duration.ofMinutes(1);

  /**
   * Threads that the JVM, the test runner or a JDK facility may start on first use and keep:
   * not a client's. Anything else still alive after a client's close() is a leak.
   */
  private static final List<String> JVM_INTERNAL_PREFIXES = List.of(
      "Common-Cleaner", "Attach Listener", "process reaper", "ForkJoinPool.commonPool-worker",
      "surefire-forkedjvm", "Signal Dispatcher", "Finalizer", "Reference Handler", "Notification Thread",
      "JFR", "Keep-Alive-Timer", "InnocuousThread", "RMI");

  private Leaks() {}

  /**
   * Open file descriptors of this process (/proc/self/fd), or -1 where it cannot be read.
   *
   * @return the open descriptors, or -1
   */
  public static int openFds() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  /**
   * Names of the live threads, for a baseline.
   *
   * @return the live threads
   */
  public static Set<Thread> liveThreads() {
    return new HashSet<>(Thread.getAllStackTraces().keySet());
  }

  /**
   * Threads alive now that were not in {@code baseline}, excluding JVM-internal ones (see
   * {@link #JVM_INTERNAL_PREFIXES}), as "name (state)" strings.
   *
   * @param baseline the threads that lived before
   * @return the new threads, as "name (state)"
   */
  public static List<String> newThreads(Set<Thread> baseline) {
    List<String> extra = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (!baseline.contains(t) && t.isAlive() && !isJvmInternal(t.getName())) {
        extra.add(t.getName() + " (" + t.getState() + ")");
      }
    }
    return extra;
  }

  private static boolean isJvmInternal(String name) {
    return JVM_INTERNAL_PREFIXES.stream().anyMatch(name::startsWith);
  }

  /**
   * Threads whose stack is inside the library's socket layer (dev.timewait.TimeWaitSocket* or
   * dev.timewait.internal): a close or read that the library left blocked. Platform threads only:
   * {@link Thread#getAllStackTraces()} leaves virtual threads out.
   *
   * @return the threads, as "name at frame"
   */
  public static List<String> threadsInTheSocketLayer() {
    List<String> blocked = new ArrayList<>();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      for (StackTraceElement frame : e.getValue()) {
        String c = frame.getClassName();
        if (c.startsWith("dev.timewait.TimeWaitSocket") || c.startsWith("dev.timewait.internal.")) {
          blocked.add(e.getKey().getName() + " at " + frame);
          break;
        }
      }
    }
    return blocked;
  }

  /**
   * Threads that wait for a peer's FIN in the library's socket layer now (a server close's FIN
   * wait, in {@code TimeWaitSocket.readSlices}), as "name" strings. Platform threads only; for a
   * virtual thread, {@link #inTheFinWait(Thread)}.
   *
   * @return the threads' names
   */
  public static List<String> threadsInTheFinWait() {
    List<String> waiting = new ArrayList<>();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      if (inTheFinWait(e.getValue())) {
        waiting.add(e.getKey().getName());
      }
    }
    return waiting;
  }

  /**
   * Whether {@code thread} waits for a peer's FIN in the library's socket layer now, as {@link
   * #threadsInTheFinWait} finds platform threads; for a virtual thread, which that list leaves out.
   *
   * @param thread the thread to look at
   * @return whether its stack is in the FIN wait
   */
  public static boolean inTheFinWait(Thread thread) {
    Preconditions.checkNotNull(thread, "thread");
    return inTheFinWait(thread.getStackTrace());
  }

  private static boolean inTheFinWait(StackTraceElement[] stack) {
    for (StackTraceElement frame : stack) {
      if (frame.getClassName().startsWith("dev.timewait.TimeWaitSocket")
          && frame.getMethodName().equals("readSlices")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Client-side sockets towards {@code port} that are still connected or half closed
   * (ESTABLISHED, CLOSE_WAIT, SYN_SENT): what a leaked connection leaves in the kernel. Where the
   * tables cannot be read (not Linux) the calling test is skipped ({@link
   * KernelTcp#assumeReadable}), and a read that fails midway fails it: a 0 there would pass an
   * assertion of no leak that nothing checked.
   *
   * @param port the server port
   * @return the count
   * @throws IllegalStateException if the tables exist but could not be read
   */
  public static int liveClientSockets(int port) {
    var counts = TcpTable.system().count(TcpFilter.remotePort(port));
    if (!counts.supported()) {
      KernelTcp.assumeReadable();
      throw new IllegalStateException("the kernel's TCP table could not be read: "
          + counts.unsupportedReason().orElse("unknown reason"));
    }
    return counts.get(TcpState.ESTABLISHED) + counts.get(TcpState.CLOSE_WAIT) + counts.get(TcpState.SYN_SENT);
  }

  /**
   * Waits at most {@code bound} for {@code condition}, checking every 20 ms; returns whether it
   * held.
   *
   * @param condition what to wait for
   * @param bound the longest to wait, 0 to {@link #MAX_WAIT}
   * @return whether the condition held in time
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code bound} is out of range
   */
  public static boolean await(BooleanSupplier condition, Duration bound) {
    return await(condition, bound, DEFAULT_POLL);
  }

  /**
   * Waits at most {@code bound} for {@code condition}, checking every {@code poll}; returns whether
   * it held. A short poll (tens of microseconds) lets a test act within a moment of what it waits
   * for, as the early-cancel tests must; an interrupt ends the wait (false, the flag kept).
   *
   * @param condition what to wait for
   * @param bound the longest to wait, 0 to {@link #MAX_WAIT}
   * @param poll the pause between checks, more than zero and at most a minute
   * @return whether the condition held in time
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code bound} or {@code poll} is out of range
   */
  public static boolean await(BooleanSupplier condition, Duration bound, Duration poll) {
    Preconditions.checkNotNull(condition, "condition");
    long boundNanos = Preconditions.checkNonNegative(bound, MAX_WAIT, "bound").toNanos();
    long pollNanos = Preconditions.checkPositive(poll, MAX_POLL, "poll").toNanos();
    long deadline = System.nanoTime() + boundNanos;
    while (!condition.getAsBoolean()) {
      long left = deadline - System.nanoTime();
      if (left < 0) {
        return false;
      }
      LockSupport.parkNanos(Math.min(pollNanos, left + 1)); // never past the bound by a poll
      if (Thread.currentThread().isInterrupted()) {
        return false;
      }
    }
    return true;
  }
}
