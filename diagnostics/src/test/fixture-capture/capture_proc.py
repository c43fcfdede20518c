#!/usr/bin/env python3
"""Captures real kernel output for timewait's diagnostics fixtures.

Run as root: it makes a private network namespace (unshare -n), so it changes no setting of the
host. Usage: capture_proc.py OUT_DIR [sysctl=value ...] -- writes OUT_DIR/sys/net/ipv4/<setting>
and OUT_DIR/net/{sockstat,sockstat6,snmp,netstat,tcp,tcp6} as the kernel printed them, after it
made, on loopback:
  * IPv4 (AF_INET): 5 client-closes-first connections to 127.0.0.1:8080 (client TIME_WAIT) and
    one open connection;
  * IPv6 (AF_INET6): 3 client-closes-first connections to [::1]:8443 and 2 to ::ffff:127.0.0.1:8443
    (IPv4-mapped, as the JVM's dual-stack sockets show), and one open connection to [::1]:8443.
"""
import os
import socket
import subprocess
import sys
import time

SETTINGS = ["ip_local_port_range", "ip_local_reserved_ports", "tcp_tw_reuse", "tcp_timestamps",
            "tcp_fin_timeout", "tcp_max_tw_buckets", "tcp_tw_recycle", "tcp_tw_reuse_delay"]
TABLES = ["sockstat", "sockstat6", "snmp", "netstat", "tcp", "tcp6"]


def client_closes_first(family, listener, address, count):
    for _ in range(count):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect(address)
        s, _ = listener.accept()
        c.close()
        s.settimeout(2)
        assert s.recv(1) == b""  # the client's FIN
        s.close()


def main():
    out = sys.argv[1]
    if os.environ.get("IN_NETNS") != "1":
        env = dict(os.environ, IN_NETNS="1")
        sys.exit(subprocess.call(["unshare", "-n", sys.executable] + sys.argv, env=env))
    subprocess.check_call(["ip", "link", "set", "lo", "up"])
    for kv in sys.argv[2:]:
        subprocess.check_call(["sysctl", "-q", "-w", "net.ipv4." + kv])

    l4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l4.bind(("127.0.0.1", 8080))
    l4.listen(16)
    client_closes_first(socket.AF_INET, l4, ("127.0.0.1", 8080), 5)
    open4 = socket.create_connection(("127.0.0.1", 8080))
    open4_peer, _ = l4.accept()

    l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    l6.bind(("::", 8443))
    l6.listen(16)
    client_closes_first(socket.AF_INET6, l6, ("::1", 8443), 3)
    client_closes_first(socket.AF_INET6, l6, ("::ffff:127.0.0.1", 8443), 2)
    open6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    open6.connect(("::1", 8443))
    open6_peer, _ = l6.accept()
    time.sleep(0.2)

    os.makedirs(os.path.join(out, "sys/net/ipv4"), exist_ok=True)
    os.makedirs(os.path.join(out, "net"), exist_ok=True)
    for name in SETTINGS:
        src = "/proc/sys/net/ipv4/" + name
        if os.path.exists(src):
            with open(src, "rb") as f, open(os.path.join(out, "sys/net/ipv4", name), "wb") as g:
                g.write(f.read())
    for name in TABLES:
        with open("/proc/net/" + name, "rb") as f, open(os.path.join(out, "net", name), "wb") as g:
            g.write(f.read())
    for s in (open4, open4_peer, open6, open6_peer, l4, l6):
        s.close()


if __name__ == "__main__":
    main()
