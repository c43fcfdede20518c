package dev.timewait.diagnostics;

import java.net.InetSocketAddress;

/**
 * One socket of the kernel's TCP table: its local and remote address and its state. An IPv4
 * socket of a dual-stack JVM, which the table lists as {@code ::ffff:a.b.c.d}, has IPv4
 * addresses. Immutable.
 *
 * @param local the local address and port
 * @param remote the remote address and port
 * @param state the TCP state
 */
public record TcpSocket(InetSocketAddress local, InetSocketAddress remote, TcpState state) {}
