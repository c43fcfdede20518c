package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.timewait.benchmarks.BenchClient.Library;
import dev.timewait.benchmarks.BenchClient.Variant;
import dev.timewait.benchmarks.Syscalls.Kind;
import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The strace counter: parsing a recorded trace, and (where strace can trace) one traced run. */
class SyscallsTest {
  /** strace 6.1 output, -f -qq -y, shortened: warm-up, N = 1 request, 2N = 2 requests, shutdown. */
  private static final String TRACE = """
      100 execve("/usr/bin/java", ["java"], 0x7ffc /* 39 vars */) = 0
      101 prctl(PR_SET_NAME, "C2 CompilerThre"...) = 0
      102 prctl(PR_SET_NAME, "OkHttp TaskRunner" <unfinished ...>
      102 <... prctl resumed>)              = 0
      103 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 7<socket:[1]>
      100 newfstatat(AT_FDCWD, "/tmp/timewait-syscalls-mark-1",  <unfinished ...>
      100 <... newfstatat resumed>0x7ffd, 0) = -1 ENOENT (No such file or directory)
      100 write(7<socket:[1]>, "GET /bench HTTP/1.1\\r\\n"..., 114) = 114
      100 read(7<socket:[1]>, "HTTP/1.1 200 OK\\r\\n"..., 8192) = 148
      100 read(7<socket:[1]>,  <unfinished ...>
      101 gettid()                          = 101
      100 <... read resumed>"", 512)        = 0
      100 newfstatat(AT_FDCWD, "/tmp/timewait-syscalls-mark-2", 0x7ffd, 0) = -1 ENOENT (No such file or directory)
      100 write(7<socket:[1]>, "GET /bench HTTP/1.1\\r\\n"..., 114) = 114
      100 read(7<socket:[1]>, "HTTP/1.1 200 OK\\r\\n"..., 8192) = 148
      100 read(7<socket:[1]>, "", 512)      = 0
      100 setsockopt(7<socket:[1]>, SOL_SOCKET, SO_LINGER, {l_onoff=0, l_linger=0}, 8) = 0
      100 shutdown(7<socket:[1]>, SHUT_WR)  = 0
      100 close(7<socket:[1]>)              = 0
      103 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 8<socket:[2]>
      103 connect(8<socket:[2]>, {sa_family=AF_INET6}, 28) = -1 EINPROGRESS (Operation now in progress)
      102 futex(0x7f, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>
      100 write(8<socket:[2]>, "GET /bench HTTP/1.1\\r\\n"..., 114) = 114
      100 read(8<socket:[2]>, "", 8192)    = -1 EAGAIN (Resource temporarily unavailable)
      100 poll([{fd=8<socket:[2]>, events=POLLIN}], 1, 30000) = 1 ([{fd=8, revents=POLLIN}])
      100 read(8<socket:[2]>, "HTTP/1.1 200 OK\\r\\n"..., 8192) = 148
      104 write(9<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8
      --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR} ---
      100 access("/tmp/timewait-syscalls-mark-3", F_OK) = -1 ENOENT (No such file or directory)
      102 <... futex resumed>)              = 0
      100 exit_group(0)                     = ?
      """;

  @Test
  void callsAreCountedOnceBetweenTheMarksByKindKeyAndThread() throws Exception {
    Syscalls.Trace trace = Syscalls.parse(new BufferedReader(new StringReader(TRACE)));

    assertThat(trace.marks).isEqualTo(3);
    // A mark counts in the segment it ends. Segment 1 (N = 1): write, read, the split read (once),
    // the JIT's gettid, the mark; segment 2 has the futex entered before mark 3 and resumed after it.
    assertThat(trace.all).containsExactly(5, 5, 15, 1);
    assertThat(trace.byKey.get("read socket EOF")).containsExactly(0, 1, 1, 0);
    assertThat(trace.byKey.get("read socket EAGAIN")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("setsockopt SO_LINGER")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("shutdown SHUT_WR")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("connect EINPROGRESS")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("futex wait")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("write eventfd")).containsExactly(0, 0, 1, 0);
    assertThat(trace.byKey.get("JVM: gettid")).containsExactly(0, 1, 0, 0);
    assertThat(trace.byKind.get(Kind.JVM)).containsExactly(1, 1, 0, 0);
    assertThat(trace.byKind.get(Kind.WAKEUP)).containsExactly(0, 0, 1, 0);
    assertThat(trace.byThread.get("OkHttp TaskRunner")).containsExactly(1, 0, 1, 0);
    assertThat(trace.byThread.get("C2 CompilerThre")).containsExactly(1, 1, 0, 0);

    Syscalls.Measured m = Syscalls.measure(Library.OKHTTP, Variant.LIB_SERVER_CLOSE, 1, 0, trace);
    // Per request = segment(2N) - segment(N): the second request's connection, FIN wait and close.
    assertThat(m.kind(Kind.SOCKET)).isEqualTo(1.0);
    assertThat(m.kind(Kind.READ)).isEqualTo(2.0);
    assertThat(m.kind(Kind.SHUTDOWN)).isEqualTo(1.0);
    assertThat(m.kind(Kind.JVM)).isEqualTo(-1.0);
    assertThat(m.all()).isEqualTo(10.0);
  }

  @Test
  void threadGroupsDropTheThreadNumberAndTheJvmsOwnThreadsAreKnown() {
    assertThat(Syscalls.threadGroup("reactor-http-epoll-2")).isEqualTo("reactor-http-epoll");
    assertThat(Syscalls.threadGroup("GC Thread#1")).isEqualTo("GC Thread");
    assertThat(Syscalls.threadGroup(null)).isEqualTo("(unnamed: main, launcher)");
    assertThat(Syscalls.jvmThread(Syscalls.threadGroup("C1 CompilerThre"))).isTrue();
    assertThat(Syscalls.jvmThread(Syscalls.threadGroup("httpclient-dispatch-1"))).isFalse();
  }

  @Test
  void aPairIsTracedInFreshJvmsAndPrintedAsATableWithItsRatioRow() throws Exception {
    Path strace = Path.of("/usr/bin/strace");
    assumeThat(Files.isExecutable(strace)).as("strace installed").isTrue();

    Syscalls.Measured a = Syscalls.trace(strace.toString(), Library.OKHTTP, Variant.LIB_SERVER_CLOSE, 20, 10, 300, null);
    Syscalls.Measured b = Syscalls.trace(strace.toString(), Library.OKHTTP, Variant.RAW_CONNECTION_CLOSE, 20, 10, 300,
        null);

    assertThat(a.errors()).isZero();
    assertThat(b.errors()).isZero();
    // A connection per request, from the kernel's view: one socket, one connect.
    assertThat(a.kind(Kind.SOCKET)).isEqualTo(1.0);
    assertThat(b.kind(Kind.CONNECT)).isEqualTo(1.0);
    String table = Syscalls.markdown(List.of(Library.OKHTTP), List.of(Syscalls.PAIRS.get(1)),
        List.of(Map.of("okhttp/" + a.variant().label, a, "okhttp/" + b.variant().label, b)), 20, 10, 5);
    assertThat(table).contains("| okhttp | timewait server-close |", "| okhttp | **A/B** | 1.00 | 1.00 |",
        "okhttp, pair 2 server close: A = timewait server-close, B = raw Connection: close");
  }
}
