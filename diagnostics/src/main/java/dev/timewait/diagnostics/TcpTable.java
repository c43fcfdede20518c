package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A reader of the kernel's TCP tables, {@code /proc/net/tcp} and {@code /proc/net/tcp6}, that
 * counts sockets by state for a {@link TcpFilter}. IPv4-mapped IPv6 addresses are decoded, so a
 * JVM's IPv4 connections, which show in {@code tcp6}, match IPv4 filters. This is how timewait's
 * tests see where TIME_WAIT landed.
 *
 * <pre>{@code
 * TcpTable table = TcpTable.system();
 * int clientTimeWait = table.count(TcpFilter.remotePort(8080)).timeWait();
 * int serverTimeWait = table.count(TcpFilter.localPort(8080)).timeWait();
 * }</pre>
 *
 * <p>A scan streams the files through a 64 KiB buffer and parses bytes in place: it allocates no
 * object per line. Off Linux, or where the files are missing, every scan returns {@linkplain
 * TcpCounts#supported() unsupported} counts instead of throwing.
 *
 * <p>A scan is not a snapshot. The kernel hands the files out a page at a time and resumes each
 * read at a saved hash-bucket position, so sockets that come and go during a scan can make it skip
 * or repeat a few entries (measured: 500 TIME_WAIT sockets read as 500 to 539 while other
 * connections churned). Good for monitoring and advice; tests that assert exact counts ask
 * netlink ({@code ss}) instead.
 *
 * <p>Immutable and thread-safe; each scan reads the files anew.
 */
public final class TcpTable {
  /** The IPv4 table. */
  public static final Path PROC_NET_TCP = Path.of("/proc/net/tcp");
  /** The IPv6 table, which also holds the JVM's dual-stack IPv4 connections. */
  public static final Path PROC_NET_TCP6 = Path.of("/proc/net/tcp6");

  private static final int BUFFER_SIZE = 64 * 1024;
  private static final TcpTable SYSTEM = new TcpTable(List.of(PROC_NET_TCP, PROC_NET_TCP6), true);

  private final List<Path> files;
  private final boolean system;

  private TcpTable(List<Path> files, boolean system) {
    this.files = files;
    this.system = system;
  }

  /** {@return the live kernel's tables} */
  public static TcpTable system() {
    return SYSTEM;
  }

  /**
   * Tables read from {@code files}, in the format of {@code /proc/net/tcp}: fixtures, say.
   *
   * @param files files in the format of {@code /proc/net/tcp}
   * @return tables read from {@code files}, in the format of {@code /proc/net/tcp}
   */
  public static TcpTable of(Path... files) {
    Preconditions.checkNotNull(files, "files");
    Preconditions.checkArgument(files.length > 0, "files must not be empty");
    for (Path f : files) {
      Preconditions.checkNotNull(f, "file");
    }
    return new TcpTable(List.of(files), false);
  }

  /** {@return whether this OS has the tables at all; false means every scan is unsupported} */
  public boolean isSupported() {
    return unsupportedReason() == null;
  }

  private String unsupportedReason() {
    if (system) {
      String os = System.getProperty("os.name", "unknown");
      if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
        return "unsupported on this OS: " + os;
      }
    }
    for (Path f : files) {
      if (Files.isReadable(f)) {
        return null;
      }
    }
    return "unsupported on this OS: cannot read " + files;
  }

  /**
   * Counts the sockets that match {@code filter}, by state.
   *
   * @param filter which sockets to count
   * @return the counts, or unsupported counts with the reason
   */
  public TcpCounts count(TcpFilter filter) {
    Preconditions.checkNotNull(filter, "filter");
    return count(List.of(filter)).get(0);
  }

  /**
   * Counts, in ONE scan of the tables, the sockets that match each of {@code filters}: element
   * {@code i} of the result holds the counts for {@code filters.get(i)}. A socket that matches
   * several filters counts for each. Cheaper than one {@link #count(TcpFilter)} per filter when
   * the tables are large.
   *
   * <pre>{@code
   * List<TcpCounts> both = TcpTable.system().count(List.of(
   *     TcpFilter.remote(new InetSocketAddress("10.0.0.7", 443)),
   *     TcpFilter.remote(new InetSocketAddress("10.0.0.8", 443))));
   * }</pre>
   *
   * @param filters which sockets each count takes
   * @return one count per filter, in the same order
   */
  public List<TcpCounts> count(List<TcpFilter> filters) {
    Preconditions.checkNotNull(filters, "filters");
    Preconditions.checkArgument(!filters.isEmpty(), "filters must not be empty");
    TcpFilter[] array = new TcpFilter[filters.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = Preconditions.checkNotNull(filters.get(i), "filter");
    }
    String reason = unsupportedReason();
    if (reason != null) {
      TcpCounts unsupported = TcpCounts.unsupported(reason);
      return Collections.nCopies(array.length, unsupported);
    }
    int[][] counts = new int[array.length][16];
    Scanner scanner = new Scanner(array, counts);
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        scanner.scan(in);
      } catch (NoSuchFileException e) {
        // tcp6 is missing where IPv6 is off: the other table still counts
      } catch (IOException e) {
        TcpCounts unsupported = TcpCounts.unsupported("cannot read " + f + ": " + e);
        return Collections.nCopies(array.length, unsupported);
      }
    }
    TcpCounts[] result = new TcpCounts[array.length];
    for (int i = 0; i < array.length; i++) {
      result[i] = new TcpCounts(counts[i], null);
    }
    return List.of(result);
  }

  /**
   * The sockets in any of {@code states} that match {@code filter}, each once (a scan of the
   * tables can list a socket twice, or skip one, while they change): for a check that must tell
   * new sockets from those there before, where a count would let an old TIME_WAIT that expires
   * meanwhile cancel a new one. Empty where the tables cannot be read at all ({@link
   * #isSupported()}).
   *
   * @param filter which sockets to list
   * @param states the states to list
   * @return the sockets, in table order
   * @throws java.io.UncheckedIOException if a table that exists could not be read to its end: a
   *     partial list would look like sockets gone
   */
  public java.util.Set<TcpSocket> sockets(TcpFilter filter, java.util.Set<TcpState> states) {
    Preconditions.checkNotNull(filter, "filter");
    Preconditions.checkNotNull(states, "states");
    java.util.Set<TcpSocket> found = new java.util.LinkedHashSet<>();
    if (unsupportedReason() != null) {
      return found;
    }
    boolean[] wanted = new boolean[16];
    for (TcpState s : states) {
      wanted[s.code()] = true;
    }
    Scanner scanner = new Scanner(new TcpFilter[] {filter}, new int[1][16]);
    scanner.collect(wanted, found);
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        scanner.scan(in);
      } catch (NoSuchFileException e) {
        // tcp6 is missing where IPv6 is off: the other table still lists
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read " + f, e);
      }
    }
    return found;
  }

  /**
   * Sockets in {@code state} that match {@code filter}; 0 where unsupported.
   *
   * @param state the TCP state
   * @param filter which sockets to count
   * @return sockets in {@code state} that match {@code filter}
   */
  public int count(TcpState state, TcpFilter filter) {
    Preconditions.checkNotNull(state, "state");
    return count(filter).get(state);
  }

  /**
   * The kernel prints each 32-bit word of an address in the host's byte order: on a
   * little-endian CPU (x86, arm64) the bytes of 127.0.0.1 read 0100007F, on a big-endian one
   * (s390x) 7F000001.
   */
  private static final boolean LITTLE_ENDIAN =
      java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

  /** The states by the kernel's number (0-15), made once: a listed socket looks its state up. */
  private static final TcpState[] BY_CODE = new TcpState[16];

  static {
    for (TcpState s : TcpState.values()) {
      BY_CODE[s.code()] = s;
    }
  }

  /** Where the {@code i}-th printed byte of an address word goes in network order. */
  static int byteOfWord(int i, boolean littleEndian) {
    return littleEndian ? 3 - i : i;
  }

  /** Parses the table format in place. One per scan; not thread-safe. */
  private static final class Scanner {
    private final TcpFilter[] filters;
    private final int[][] counts;
    private final byte[] buffer = new byte[BUFFER_SIZE];
    private final byte[] address = new byte[16];
    /** Set by {@link #collect}: the states to list, and where. */
    private boolean[] wanted;
    private java.util.Set<TcpSocket> found;

    Scanner(TcpFilter[] filters, int[][] counts) {
      this.filters = filters;
      this.counts = counts;
    }

    /** Lists, besides counting, each matching socket in a {@code wanted} state into {@code found}. */
    void collect(boolean[] wanted, java.util.Set<TcpSocket> found) {
      this.wanted = wanted;
      this.found = found;
    }

    void scan(InputStream in) throws IOException {
      int filled = 0;
      while (true) {
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) {
          if (filled > 0) {
            line(0, filled);
          }
          return;
        }
        filled += n;
        int start = 0;
        for (int i = 0; i < filled; i++) {
          if (buffer[i] == '\n') {
            line(start, i);
            start = i + 1;
          }
        }
        if (start == 0 && filled == buffer.length) {
          throw new IOException("a line longer than " + BUFFER_SIZE + " bytes");
        }
        System.arraycopy(buffer, start, buffer, 0, filled - start);
        filled -= start;
      }
    }

    /** One line in {@code [start, end)}: "sl: local:port remote:port st ...". */
    private void line(int start, int end) {
      byte[] b = buffer;
      int p = skipSpaces(b, start, end);
      if (p >= end || b[p] == 's') {
        return; // blank, or the header
      }
      while (p < end && b[p] != ':') {
        p++;
      }
      p = skipSpaces(b, p + 1, end);
      int localAddr = p;
      while (p < end && b[p] != ':') {
        p++;
      }
      int localAddrLen = p - localAddr;
      int localPort = hex(b, p + 1, 4);
      p = skipSpaces(b, p + 5, end);
      int remoteAddr = p;
      while (p < end && b[p] != ':') {
        p++;
      }
      int remoteAddrLen = p - remoteAddr;
      int remotePort = hex(b, p + 1, 4);
      p = skipSpaces(b, p + 5, end);
      if (p + 2 > end || localPort < 0 || remotePort < 0) {
        return; // not a socket line
      }
      int state = hex(b, p, 2);
      if (state < 0 || state >= 16) {
        return;
      }
      for (int i = 0; i < filters.length; i++) {
        TcpFilter filter = filters[i];
        if (!filter.matchesPorts(localPort, remotePort)) {
          continue;
        }
        if (filter.needsLocalAddress()
            && !(decode(b, localAddr, localAddrLen) && filter.matchesLocalAddress(address))) {
          continue;
        }
        if (filter.needsRemoteAddress()
            && !(decode(b, remoteAddr, remoteAddrLen) && filter.matchesRemoteAddress(address))) {
          continue;
        }
        counts[i][state]++;
        if (wanted != null && wanted[state]) {
          list(b, localAddr, localAddrLen, localPort, remoteAddr, remoteAddrLen, remotePort, state);
        }
      }
    }

    private void list(byte[] b, int localAddr, int localAddrLen, int localPort, int remoteAddr,
        int remoteAddrLen, int remotePort, int state) {
      TcpState tcpState = BY_CODE[state];
      if (tcpState == null || !decode(b, localAddr, localAddrLen)) {
        return;
      }
      java.net.InetAddress local = inetAddress();
      if (!decode(b, remoteAddr, remoteAddrLen)) {
        return;
      }
      java.net.InetAddress remote = inetAddress();
      found.add(new TcpSocket(new java.net.InetSocketAddress(local, localPort),
          new java.net.InetSocketAddress(remote, remotePort), tcpState));
    }

    /** The decoded address: an IPv4-mapped one as IPv4 (the JDK does so for 16 such bytes). */
    private java.net.InetAddress inetAddress() {
      try {
        return java.net.InetAddress.getByAddress(address.clone());
      } catch (java.net.UnknownHostException impossible) {
        throw new IllegalStateException(impossible); // 16 bytes are a valid IPv6 address
      }
    }

    /** Decodes 8 (IPv4) or 32 (IPv6) hex digits, each 32-bit word in the host's byte order. */
    private boolean decode(byte[] b, int at, int len) {
      if (len == 8) {
        java.util.Arrays.fill(address, 0, 10, (byte) 0);
        address[10] = (byte) 0xff;
        address[11] = (byte) 0xff;
        return word(b, at, 12);
      }
      if (len == 32) {
        for (int w = 0; w < 4; w++) {
          if (!word(b, at + 8 * w, 4 * w)) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    private boolean word(byte[] b, int at, int to) {
      for (int i = 0; i < 4; i++) {
        int v = hex(b, at + 2 * i, 2);
        if (v < 0) {
          return false;
        }
        address[to + byteOfWord(i, LITTLE_ENDIAN)] = (byte) v;
      }
      return true;
    }

    private static int skipSpaces(byte[] b, int p, int end) {
      while (p < end && b[p] == ' ') {
        p++;
      }
      return p;
    }

    private static int hex(byte[] b, int at, int digits) {
      int v = 0;
      for (int i = 0; i < digits; i++) {
        if (at + i >= b.length) {
          return -1;
        }
        int c = b[at + i];
        int d;
        if (c >= '0' && c <= '9') {
          d = c - '0';
        } else if (c >= 'A' && c <= 'F') {
          d = c - 'A' + 10;
        } else if (c >= 'a' && c <= 'f') {
          d = c - 'a' + 10;
        } else {
          return -1;
        }
        v = (v << 4) | d;
      }
      return v;
    }
  }
}
