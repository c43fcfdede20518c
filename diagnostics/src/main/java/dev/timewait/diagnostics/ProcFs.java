package dev.timewait.diagnostics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads small files of {@code /proc} for the diagnostics: kernel settings and counters. Missing or
 * unreadable files come back as null, never as an exception. Stateless and thread-safe.
 */
final class ProcFs {
  /** The live kernel's {@code /proc}. */
  static final Path PROC = Path.of("/proc");

  private ProcFs() {}

  /** Why the live kernel cannot be read on this OS, or null on Linux. */
  static String unsupportedOs() {
    String os = System.getProperty("os.name", "unknown");
    return os.toLowerCase(Locale.ROOT).contains("linux") ? null : "unsupported on this OS: " + os;
  }

  /** Why {@code root} cannot be read as a {@code /proc}, or null if it can. */
  static String unsupportedRoot(Path root, boolean system, String probe) {
    if (system) {
      String os = unsupportedOs();
      if (os != null) {
        return os;
      }
    }
    Path p = root.resolve(probe);
    if (!Files.isReadable(p)) {
      return "unsupported on this OS: cannot read " + p;
    }
    return null;
  }

  /**
   * The whole file as text, or null when it is missing or unreadable. Reads through an input
   * stream from offset 0 with a large first read: {@code /proc/sys} files report size 0, and their
   * handlers return nothing for a read at a non-zero offset, so {@code Files.readAllBytes}, which
   * reads one byte first for such files, would see only that byte ("3" for "32768 60999").
   */
  static String read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /**
   * Parses the header/value line pairs of {@code /proc/net/snmp} and {@code /proc/net/netstat}:
   * {@code "Tcp: ActiveOpens PassiveOpens ..."} then {@code "Tcp: 4239 4220 ..."}. Returns, by
   * prefix ({@code "Tcp"}, {@code "TcpExt"}), the values by name in file order. A line pair
   * whose lengths differ is skipped; a value that is not a number is left out.
   */
  static Map<String, Map<String, Long>> headerValuePairs(String text) {
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    if (text == null) {
      return out;
    }
    String[] lines = text.split("\n");
    for (int i = 0; i + 1 < lines.length; i++) {
      String header = lines[i];
      String values = lines[i + 1];
      int colon = header.indexOf(':');
      if (colon <= 0 || !values.startsWith(header.substring(0, colon + 1))) {
        continue;
      }
      String prefix = header.substring(0, colon);
      String[] names = header.substring(colon + 1).trim().split("\\s+");
      String[] numbers = values.substring(colon + 1).trim().split("\\s+");
      i++;
      if (names.length != numbers.length) {
        continue;
      }
      Map<String, Long> byName = out.computeIfAbsent(prefix, k -> new LinkedHashMap<>());
      for (int k = 0; k < names.length; k++) {
        try {
          byName.put(names[k], Long.parseLong(numbers[k]));
        } catch (NumberFormatException e) {
          // left out: the reader reports it as unknown
        }
      }
    }
    return out;
  }

  /**
   * Parses {@code /proc/net/sockstat}-style lines, {@code "TCP: inuse 1 orphan 0 tw 0 alloc 1"}:
   * by prefix ({@code "TCP"}, {@code "TCP6"}), the values by key.
   */
  static Map<String, Map<String, Long>> keyValueLines(String text) {
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    if (text == null) {
      return out;
    }
    for (String line : text.split("\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String[] parts = line.substring(colon + 1).trim().split("\\s+");
      Map<String, Long> byKey = out.computeIfAbsent(line.substring(0, colon), k -> new LinkedHashMap<>());
      for (int k = 0; k + 1 < parts.length; k += 2) {
        try {
          byKey.put(parts[k], Long.parseLong(parts[k + 1]));
        } catch (NumberFormatException e) {
          // left out
        }
      }
    }
    return out;
  }
}
