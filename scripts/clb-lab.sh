#!/usr/bin/env bash
# clb-lab.sh: the load-balancer lab (issues 6 and 14).
#
# Reproduces ephemeral-port exhaustion behind a "cloud load balancer" and shows that
# every close strategy of timewait survives it, measured from the kernel's TCP table.
#
# The set-up, built fresh for every run:
#   * a network namespace of its own (timewait-lab-<pid>-<run>), loopback up, with
#       net.ipv4.tcp_timestamps=0            as cloud load balancers have it;
#       net.ipv4.tcp_tw_reuse=1              the usual tuning, shown here NOT to help:
#                                            reuse needs timestamps on both ends;
#       net.ipv4.ip_local_port_range=LO HI   1000 ephemeral ports, so exhaustion comes
#                                            after ~1000 connections instead of ~28,000;
#   * Debian's nginx inside it on 127.0.0.1:PORT: keep-alive (75 s, 1000 requests per
#     connection), a small static body, access_log off, our own config in a temp dir;
#   * the project's load CLI (examples/target/timewait-load.jar) run inside it.
#
# What it asserts (any failure => exit 1, with the failed expectation named):
#   naive      x hc5, hc5-async, okhttp, reactor-netty: --requests 1500 FAILS: errors > 0, the first
#              error is "Cannot assign requested address", and ~1000 client TIME_WAIT
#              sit in the kernel's table (the whole port range), tcp_tw_reuse notwithstanding.
#   server-close, reset, pooled x hc5, hc5-async, okhttp, reactor-netty: --requests 20000 at
#              --concurrency 16 with 0 errors and 0 client TIME_WAIT in the kernel's
#              table; server close puts the TIME_WAIT on nginx's side (local port = PORT).
#
# Why a fresh namespace per run (rather than one namespace and a new nginx port per
# run): TIME_WAIT lasts 60 s, so a naive run poisons the port range towards that
# server for a minute. A new server port would give a fresh 1000-port budget too (the
# kernel checks the whole 4-tuple), but a fresh namespace also gives each run an empty
# TCP table and zeroed per-namespace counters (/proc/net/netstat: TWRecycled,
# TCPTimeWaitOverflow), so every number in the report belongs to that run alone,
# and no run can starve the next. Creating a namespace and starting nginx costs
# well under a second.
#
# TIME_WAIT is counted twice: by the CLI (its clientTimeWait/serverTimeWait fields,
# read by the JVM inside the namespace) and independently here with `ss` inside the
# namespace right after the CLI exits, so the claims rest on the kernel's table.
#
# The balancer stage (issue 14, --stage balancer; docs/lab.md, docs/lab-balancer.md):
# pooled connections that the peer closed while idle must not lose requests. HAProxy
# (Debian's) in front of nginx, nginx alone, and an HTTP/1.0 server, each scenario in a
# fresh namespace with tcp_timestamps=0, plain and TLS (HAProxy terminates TLS with a
# self-signed certificate made here):
#   a  HAProxy timeout http-keep-alive 1s, idle gaps 0.8-1.4 s (just across it);
#      timeout client 30 s (see bl_haproxy_conf)
#   b  HAProxy timeout http-keep-alive 5s, idle gaps 4.6-5.6 s
#   c  nginx alone, keepalive_timeout 2s, idle gaps 1.8-2.4 s
#   d  nginx alone, keepalive_requests 3
#   e  an HTTP/1.0 server (Python's http.server classes): one response per connection
#   f  HAProxy with two nginx backends, one killed (SIGKILL) mid-run
# Each row is one CLI process with one worker, on a port of its own (so that the rows of a
# scenario run at once and each row's client TIME_WAIT is still the kernel's count towards
# its port). The rows send one warm-up request, wait at a barrier (--start-signal) until
# every JVM of the scenario is ready, then load together: on 2 cores, 30 JVMs starting
# would otherwise stretch the first bursts and, in f, start rows after the kill.
# Rows: hc5, hc5-async, okhttp, reactor-netty x pooled (retirement reset and server-close) x GET and
# POST, retries off, bursts of 6 requests with the idle gaps above; beside them the raw
# clients (the same client without timewait, GET, retries off). Asserted for every
# pooled row: 0 failed requests and 0 client TIME_WAIT in the kernel's table, except
# that in f a POST the balancer had received when its backend died may be lost (HTTP
# forbids resending it; such losses are reported). Raw rows are reported, never asserted.
# --balancer-assert report turns those per-row expectations into a report only (CI, until
# issue 14's fixes are on main); the harness's own expectations always hold.
#
# The limit stage (issue 19, --stage limit; not part of `all`, so not of CI: 12 runs of 60 s):
# what a strategy costs at the physical limit. A connection per request for 60 s against nginx
# in a fresh namespace with the default ephemeral range (32768-60999, set explicitly) and
# tcp_timestamps=0: naive, server-close and reset per client, sampled every second (requests/s,
# errors, p99, client and server TIME_WAIT); a report, the combined series and an SVG chart
# (--commit-report: into docs/benchmarks.md, docs/limit-run.svg, docs/limit-run.csv).
#
# Skips (prints why, exits 0) when not root or when `ip netns` does not work; CI decides.
# Cleans up namespaces, nginx, temp files on any exit (trap EXIT INT TERM).
# Every wait is bounded; every CLI run is under `timeout`.
#
# Usage: scripts/clb-lab.sh [options]   (see --help)

set -euo pipefail

# ---------------------------------------------------------------------------------
# Settings (each can be changed by an option; the defaults are what CI runs, except that .ci/run
# passes --requests 5000 to stay within its 30 minutes)
# ---------------------------------------------------------------------------------
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/examples/target/timewait-load.jar"
JAR_GIVEN=false
OUT="$ROOT/lab-out"
CLIENTS="hc5 hc5-async okhttp reactor-netty"
STRATEGIES="server-close reset pooled"
REQUESTS=20000          # per strategy run
NAIVE_REQUESTS=1500     # per naive run: more than the 1000-port budget
CONCURRENCY=16
PORT_LO=40000           # ip_local_port_range inside the namespace: PORT_LO..PORT_HI
PORT_HI=40999
NGINX_PORT=8080         # outside the ephemeral range
RUN_TIMEOUT=300         # seconds, per CLI run
COMMIT_REPORT=false
INSTALL=true
STAGE=all               # all | exhaustion | balancer | limit (limit only when named)
STRATEGIES_GIVEN=false
LIMIT_DURATION=60       # the limit stage: seconds per run
LIMIT_STRATEGIES="server-close reset"   # its strategies besides naive, unless --strategies
# The balancer stage (see its section below)
B_SCENARIOS="a b c d e f"
B_CLIENTS="hc5 hc5-async okhttp reactor-netty"
B_BURSTS=8              # bursts of B_BURST requests per row (b: half as many; f: runs 2*B_BURSTS s)
B_BURST=6
B_TLS=true
B_ASSERT=enforce        # enforce | report
B_REPORT=""             # default: OUT/lab-balancer.md

usage() {
  cat <<EOF
Usage: $0 [options]

The load-balancer lab: port exhaustion with a naive client, and every timewait
strategy surviving it, each run in a fresh network namespace against nginx; then
the balancer stage: pooled connections that HAProxy, nginx or an HTTP/1.0 server
closed while idle must lose no request (issue 14).

Options:
  --jar PATH            load CLI jar (default: examples/target/timewait-load.jar,
                        built with ./mvnw if missing)
  --clients "A B"       clients to run (default: "$CLIENTS")
  --strategies "A B"    strategies to run besides naive (default: "$STRATEGIES")
  --requests N          requests per strategy run (default: $REQUESTS)
  --naive-requests N    requests per naive run (default: $NAIVE_REQUESTS)
  --concurrency N       (default: $CONCURRENCY)
  --out DIR             report and run logs (default: lab-out)
  --no-install          do not apt-get install nginx/jq/haproxy when missing
  --commit-report       copy the reports to docs/ (clb-lab-report.md, lab-balancer.md;
                        limit: limit-run.svg, limit-run.csv and the generated block of
                        benchmarks.md) and commit them
  --stage S             all (default), exhaustion (port exhaustion, above),
                        balancer (stale pooled connections, issue 14), or limit
                        (issue 19, only when named: below)

The limit stage (a connection per request at the physical limit, 28,232 ports):
  --limit-duration S    seconds per run (default: $LIMIT_DURATION); 5 with --clients okhttp
                        is a quick check of the set-up
  The limit stage takes --clients, --concurrency, --out and --commit-report too;
  --strategies (default there: "$LIMIT_STRATEGIES") names the runs besides naive.

The balancer stage (each scenario in a fresh namespace, its rows run at once):
  --scenarios "a b"     scenarios to run (default: "$B_SCENARIOS"): a HAProxy idle 1 s,
                        b HAProxy idle 5 s, c nginx keepalive_timeout 2s, d nginx
                        keepalive_requests 3, e HTTP/1.0 server, f a backend killed
  --bursts N            bursts of $B_BURST requests per row (default: $B_BURSTS; b runs
                        half as many, f runs for 2*N seconds); more for a report
  --balancer-clients "A B"  (default: "$B_CLIENTS")
  --no-tls              plain rows only
  --balancer-assert M   enforce (default): a pooled row with a failed request or a
                        client TIME_WAIT fails the lab; report: print and report them
                        only (until issue 14's fixes are merged)
  --report PATH         the stage's markdown report (default: OUT/lab-balancer.md)
  -h, --help            this text

Exit status: 0 all expectations held (or skipped: not root / no ip netns),
             1 an expectation failed, 2 bad arguments.
EOF
}

die_usage() { echo "clb-lab: $*" >&2; usage >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die_usage "$1 needs a value"; }
need_int() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die_usage "$1 must be a positive integer, but was '$2'"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --jar) need_value "$@"; JAR="$2"; JAR_GIVEN=true; shift 2 ;;
    --clients) need_value "$@"; CLIENTS="$2"; shift 2 ;;
    --strategies) need_value "$@"; STRATEGIES="$2"; STRATEGIES_GIVEN=true; shift 2 ;;
    --limit-duration) need_value "$@"; need_int "$1" "$2"; LIMIT_DURATION="$2"; shift 2 ;;
    --requests) need_value "$@"; need_int "$1" "$2"; REQUESTS="$2"; shift 2 ;;
    --naive-requests) need_value "$@"; need_int "$1" "$2"; NAIVE_REQUESTS="$2"; shift 2 ;;
    --concurrency) need_value "$@"; need_int "$1" "$2"; CONCURRENCY="$2"; shift 2 ;;
    --out) need_value "$@"; OUT="$2"; shift 2 ;;
    --no-install) INSTALL=false; shift ;;
    --commit-report) COMMIT_REPORT=true; shift ;;
    --stage) need_value "$@"; [[ "$2" =~ ^(all|exhaustion|balancer|limit)$ ]] \
               || die_usage "--stage must be all, exhaustion, balancer or limit, but was '$2'"; STAGE="$2"; shift 2 ;;
    --scenarios) need_value "$@"; [[ "$2" =~ ^[a-f]([[:space:]]+[a-f])*$ ]] \
               || die_usage "--scenarios must be letters a to f, space-separated, but was '$2'"; B_SCENARIOS="$2"; shift 2 ;;
    --bursts) need_value "$@"; need_int "$1" "$2"; B_BURSTS="$2"; shift 2 ;;
    --balancer-clients) need_value "$@"; B_CLIENTS="$2"; shift 2 ;;
    --no-tls) B_TLS=false; shift ;;
    --balancer-assert) need_value "$@"; [[ "$2" =~ ^(enforce|report)$ ]] \
               || die_usage "--balancer-assert must be enforce or report, but was '$2'"; B_ASSERT="$2"; shift 2 ;;
    --report) need_value "$@"; B_REPORT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

PORT_BUDGET=$((PORT_HI - PORT_LO + 1))
if $STRATEGIES_GIVEN; then LIMIT_STRATEGIES="$STRATEGIES"; fi
(( LIMIT_DURATION <= 3600 )) || die_usage "--limit-duration must be at most 3600 s, but was '$LIMIT_DURATION'"
log() { printf '[clb-lab %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
skip() { log "SKIPPED: $*"; exit 0; }
fatal() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------
# Preconditions: root and working network namespaces, else skip (exit 0)
# ---------------------------------------------------------------------------------
[[ "$(uname -s)" == Linux ]] || skip "not Linux ($(uname -s)): network namespaces are Linux-only"
[[ "$(id -u)" -eq 0 ]] || skip "not root (uid $(id -u)): creating network namespaces and setting their sysctls needs root"
command -v ip >/dev/null 2>&1 || skip "the ip command (iproute2) is missing"

# State for cleanup. NS is the namespace of the run in progress, if any; ROW_PIDS the
# balancer stage's row wrappers (subshells of this script) still running.
NS=""
TMP=""
POLICY_RC_CREATED=false
NS_PREFIX="timewait-lab-$$"
ROW_PIDS=()
CHILD_PID=""

# Runs "$@" in the background and waits for it. Bash runs a trap only between foreground
# commands, so a long foreground step (apt, the build, a JVM) held Ctrl-C or a CI timeout's TERM
# until it ended, and an outer `timeout -k` then killed this script before its cleanup ran.
# `wait` returns at once on a trapped signal; the cleanup stops the child (CHILD_PID).
fg_wait() {
  "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# Kill what runs inside one of OUR namespaces (by pid, listed by `ip netns pids`),
# then delete the namespace. Bounded: TERM, up to 5 s, then KILL.
ns_destroy() {
  local ns="$1" pids i
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$ns" || return 0
  pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
  if [[ -n "${pids// /}" ]]; then
    # shellcheck disable=SC2086 # word splitting of the pid list is intended
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
      [[ -z "${pids// /}" ]] && break
      sleep 0.1
    done
    if [[ -n "${pids// /}" ]]; then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
  fi
  ip netns del "$ns" 2>/dev/null || log "warning: could not delete namespace $ns"
}

cleanup() {
  local rc=$?
  # To its end, whatever comes: a second Ctrl-C or TERM is ignored (the default action would
  # kill this shell halfway, leaving namespaces, daemons and policy-rc.d), and a failing step
  # does not stop it (errexit).
  trap - EXIT
  trap '' INT TERM
  set +e
  if [[ -n "$CHILD_PID" ]]; then
    kill -TERM "$CHILD_PID" 2>/dev/null
    # Bounded (20 s, inside CI's `timeout -k 30`): an apt-get's dpkg may still be configuring
    # a package, and policy-rc.d must outlive it (else the package's postinst starts nginx or
    # HAProxy in the root namespace).
    for ((i = 0; i < 200; i++)); do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ ${#ROW_PIDS[@]} -gt 0 ]]; then kill -TERM "${ROW_PIDS[@]}" 2>/dev/null || true; fi
  if [[ -n "$NS" ]]; then ns_destroy "$NS"; NS=""; fi
  # Any namespace of this invocation left behind (e.g. interrupted between runs).
  local left
  for left in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -- "^$NS_PREFIX-" || true); do
    ns_destroy "$left"
  done
  if $POLICY_RC_CREATED; then rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n "$TMP" && -d "$TMP" ]]; then rm -rf -- "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# Namespaces an earlier run left when it was killed before its cleanup (SIGKILL): theirs is a
# dead pid, or this one's (pids repeat, in containers most): swept before the probe, whose name
# an earlier run of this pid may have left. A live other pid is another run's: left alone.
for left in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^timewait-lab-[0-9]+-' || true); do
  owner="${left#timewait-lab-}"; owner="${owner%%-*}"
  if [[ "$owner" == "$$" ]] || ! kill -0 "$owner" 2>/dev/null; then
    log "removing namespace $left, left by an earlier run (pid $owner)"
    ns_destroy "$left"
  fi
done

# Does `ip netns` work here (e.g. not in an unprivileged container)?
probe="$NS_PREFIX-probe"
NS="$probe"
if ! probe_err="$(ip netns add "$probe" 2>&1)"; then
  NS=""
  skip "ip netns does not work here: ip netns add failed: $probe_err"
fi
if ! probe_err="$(ip netns exec "$probe" ip link set lo up 2>&1)"; then
  ns_destroy "$probe"; NS=""
  skip "ip netns does not work here: ip netns exec failed: $probe_err"
fi
ns_destroy "$probe"
NS=""

TMP="$(mktemp -d /tmp/timewait-lab.XXXXXX)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf -- "$OUT/runs" "$OUT/clb-lab-report.md" "$OUT/balancer" "$OUT/lab-balancer.md" \
  "$OUT/limit-run.md" "$OUT/limit-run.svg" "$OUT/limit-run.csv"   # this invocation's only
mkdir -p "$OUT/runs"
[[ -n "$B_REPORT" ]] || B_REPORT="$OUT/lab-balancer.md"
RUN_LIMIT=false
case "$STAGE" in
  all) RUN_EXHAUSTION=true; RUN_BALANCER=true ;;
  exhaustion) RUN_EXHAUSTION=true; RUN_BALANCER=false ;;
  balancer) RUN_EXHAUSTION=false; RUN_BALANCER=true ;;
  limit) RUN_EXHAUSTION=false; RUN_BALANCER=false; RUN_LIMIT=true ;;
esac

# ---------------------------------------------------------------------------------
# Tools: nginx and jq from Debian's packages, the load CLI jar from this repo
# ---------------------------------------------------------------------------------
find_nginx() {
  command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true
}

# Install the given Debian packages without starting their services: while apt runs,
# a policy-rc.d answering 101 ("action forbidden") is in place (created only if the
# machine has none; removed afterwards, also by the trap). We never start the system
# nginx: ours runs with its own config, inside the namespace.
apt_install() {
  $INSTALL || fatal "missing $*, and --no-install was given"
  command -v apt-get >/dev/null 2>&1 || fatal "missing $*, and there is no apt-get to install them"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=true
  fi
  log "installing $* from Debian's packages"
  apt_update
  fg_wait env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "$@" \
    >"$TMP/apt.log" 2>&1 || { tail -n 30 "$TMP/apt.log"; fatal "apt-get install $* failed"; }
  if $POLICY_RC_CREATED; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=false; fi
}

APT_UPDATED=false
apt_update() {
  $APT_UPDATED && return 0
  fg_wait timeout 600 apt-get update -qq || fatal "apt-get update failed"
  APT_UPDATED=true
}

missing=()
NGINX="$(find_nginx)"
if [[ -z "$NGINX" ]]; then
  # bookworm: "nginx" is the server itself (nginx-light adds a module on top of it);
  # older releases: "nginx" is a metapackage pulling nginx-core. Either is fine.
  pkg=""
  if $INSTALL && command -v apt-get >/dev/null 2>&1; then
    apt_update
    for candidate in nginx nginx-light; do
      if apt-cache policy "$candidate" 2>/dev/null | grep -q 'Candidate: [0-9]'; then pkg="$candidate"; break; fi
    done
  fi
  missing+=("${pkg:-nginx}")
fi
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v ps >/dev/null 2>&1 || missing+=(procps) # scenario f finds nginx's workers with ps
command -v java >/dev/null 2>&1 || fatal "java is missing (the load CLI needs a JDK 17+ on PATH)"
find_haproxy() {
  command -v haproxy 2>/dev/null || { [[ -x /usr/sbin/haproxy ]] && echo /usr/sbin/haproxy; } || true
}
if $RUN_BALANCER; then
  [[ -n "$(find_haproxy)" ]] || missing+=(haproxy)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # Scenario e's HTTP/1.0 server; without it the scenario was skipped, and CI passed without it.
  if [[ " $B_SCENARIOS " == *" e "* ]]; then command -v python3 >/dev/null 2>&1 || missing+=(python3); fi
fi
if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
NGINX="$(find_nginx)"
[[ -n "$NGINX" ]] || fatal "nginx is still missing after the install"
NGINX_VERSION="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
HAPROXY=""; HAPROXY_VERSION=""; PYTHON=""; PYTHON_VERSION=""
if $RUN_BALANCER; then
  HAPROXY="$(find_haproxy)"
  [[ -n "$HAPROXY" ]] || fatal "haproxy is still missing after the install"
  HAPROXY_VERSION="$("$HAPROXY" -v 2>&1 | awk 'NR == 1 {print "HAProxy " $3}')"  # awk reads all: no SIGPIPE
  # The real interpreter, not a version manager's shim (which would start a shell per run).
  PYTHON="$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)"
  if [[ -n "$PYTHON" ]]; then PYTHON_VERSION="$("$PYTHON" -V 2>&1)"; fi
  KEYTOOL="$(dirname "$(readlink -f "$(command -v java)")")/keytool"
  [[ -x "$KEYTOOL" ]] || fatal "keytool is missing beside java ($KEYTOOL): the TLS rows need a PKCS12 truststore"
fi

if [[ ! -f "$JAR" ]]; then
  $JAR_GIVEN && fatal "the jar given with --jar does not exist: $JAR"
  log "building the load CLI: ./mvnw -q -B -pl examples -am package -DskipTests"
  fg_wait bash -c 'cd "$1" && exec timeout 1200 ./mvnw -q -B -pl examples -am package -DskipTests' _ "$ROOT" \
    || fatal "building the load CLI failed"
  [[ -f "$JAR" ]] || fatal "the build did not produce $JAR: the examples module must build the load CLI as an executable jar with that name"
fi

# ---------------------------------------------------------------------------------
# One namespace + nginx per run
# ---------------------------------------------------------------------------------
ns_sysctl() { ip netns exec "$1" sysctl -n "$2" | tr -s ' \t' ' '; }

# Create namespace $1: loopback up and the three sysctls, each read back to verify; the
# ephemeral range is $2..$3 (default: the exhaustion stage's PORT_LO..PORT_HI).
ns_create() {
  local ns="$1" lo="${2:-$PORT_LO}" hi="${3:-$PORT_HI}"
  NS="$ns"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_timestamps=0
  ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_tw_reuse=1
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="$lo $hi"
  [[ "$(ns_sysctl "$ns" net.ipv4.tcp_timestamps)" == 0 ]] || fatal "$ns: tcp_timestamps did not read back as 0"
  [[ "$(ns_sysctl "$ns" net.ipv4.tcp_tw_reuse)" == 1 ]] || fatal "$ns: tcp_tw_reuse did not read back as 1"
  [[ "$(ns_sysctl "$ns" net.ipv4.ip_local_port_range)" == "$lo $hi" ]] \
    || fatal "$ns: ip_local_port_range did not read back as '$lo $hi'"
}

# nginx's config: everything under $TMP/nginx (pid, logs, temp paths), nothing of the
# system's touched. Keep-alive like a real backend; it honours Connection: close by
# closing first (so under server close its side holds the TIME_WAIT).
write_nginx_conf() {
  local dir="$TMP/nginx"
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<EOF
# Written by scripts/clb-lab.sh; runs inside the lab's network namespace only.
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 75s;
  keepalive_requests 1000;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location = / {
      default_type text/plain;
      return 200 "hello from nginx in the timewait lab\n";
    }
  }
}
EOF
  # -e: even the log nginx opens before reading its config is ours, not /var/log/nginx.
  "$NGINX" -t -q -e "$dir/logs/error.log" -p "$dir" -c "$dir/nginx.conf" 2>"$TMP/nginx-t.log" \
    || { cat "$TMP/nginx-t.log"; fatal "nginx rejected the lab's config"; }
}

# Start nginx in namespace $1 and wait (bounded) for its listening socket. The wait
# looks at the kernel's table (ss -l), not by connecting: a probe connection would
# itself leave a TIME_WAIT and spend one of the 1000 ports.
nginx_start() {
  local ns="$1" dir="$TMP/nginx" i
  rm -f "$dir/nginx.pid"
  ip netns exec "$ns" "$NGINX" -e "$dir/logs/error.log" -p "$dir" -c "$dir/nginx.conf" || fatal "nginx did not start in $ns"
  for ((i = 0; i < 100; i++)); do
    if [[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :$NGINX_PORT")" ]]; then return 0; fi
    sleep 0.1
  done
  fatal "nginx did not listen on 127.0.0.1:$NGINX_PORT in $ns within 10 s"
}

nginx_stop() {
  local dir="$TMP/nginx" pid i
  [[ -f "$dir/nginx.pid" ]] || return 0
  pid="$(cat "$dir/nginx.pid")"
  kill -QUIT "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# TIME_WAIT sockets in namespace $1, from the kernel's table:
#   client side: remote port = nginx's port;  server side: local port = nginx's port.
tw_client() { ip netns exec "$1" ss -Htan state time-wait "dport = :$NGINX_PORT" | wc -l; }
tw_server() { ip netns exec "$1" ss -Htan state time-wait "sport = :$NGINX_PORT" | wc -l; }
# A TcpExt counter of namespace $1 (/proc/net/netstat is per namespace).
tcpext() {
  # shellcheck disable=SC2016 # $1, $i are awk's
  ip netns exec "$1" awk -v k="$2" '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) h[i] = $i; n = 1 } else { for (i = 2; i <= NF; i++) if (h[i] == k) print $i } }' /proc/net/netstat
}

# A run's end in namespace $1: its kernel counts, read at once (TIME_WAIT lasts 60 s), into the
# caller's kclient, kserver, recycled and overflow; then nginx and the namespace go.
count_and_teardown() {
  kclient="$(tw_client "$1")"
  kserver="$(tw_server "$1")"
  recycled="$(tcpext "$1" TWRecycled)"
  overflow="$(tcpext "$1" TCPTimeWaitOverflow)"
  nginx_stop
  ns_destroy "$1"
  NS=""
}

# ---------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------
FAILURES=()
FAILED_RUNS=()
ROWS=()
check() {  # check RUN DESCRIPTION COMMAND...   (COMMAND true => pass)
  local run="$1" what="$2"; shift 2
  if "$@" >/dev/null; then
    log "  ok    $run: $what"
  else
    log "  FAIL  $run: $what"
    FAILURES+=("$run: $what")
    FAILED_RUNS+=("$run")
  fi
}
ge() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= $2 )); }
le() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 <= $2 )); }
eq() { [[ "$1" == "$2" ]]; }
ne_timeout() { [[ "$1" -ne 124 && "$1" -ne 137 ]]; }  # timeout(1): 124, or 137 after KILL
contains() { [[ "$1" == *"$2"* ]]; }
j() { jq -r "$1 // \"-\"" <<<"$JSON"; }

# run_one CLIENT STRATEGY REQUESTS: fresh namespace, nginx, the CLI, checks, teardown.
RUN_INDEX=0
run_one() {
  local client="$1" strategy="$2" requests="$3"
  local name="$strategy-$client" ns rc kclient kserver recycled overflow started ended
  RUN_INDEX=$((RUN_INDEX + 1))
  ns="$NS_PREFIX-$RUN_INDEX"
  log "run $RUN_INDEX: $name, $requests requests at concurrency $CONCURRENCY (namespace $ns)"
  ns_create "$ns"
  nginx_start "$ns"

  # The CLI, inside the namespace, bounded in time. Its last stdout line is the JSON.
  local cmd=(java -jar "$JAR" load --url "http://127.0.0.1:$NGINX_PORT/" --client "$client"
             --strategy "$strategy" --requests "$requests" --concurrency "$CONCURRENCY" --json)
  printf '%q ' ip netns exec "$ns" timeout "$RUN_TIMEOUT" "${cmd[@]}" > "$OUT/runs/$name.cmd"
  started=$(date +%s%N)
  rc=0
  # In the background + wait, so that INT/TERM reach the trap at once (bash defers traps
  # until a foreground child ends); the trap then kills what runs in the namespace.
  ip netns exec "$ns" timeout "$RUN_TIMEOUT" "${cmd[@]}" >"$OUT/runs/$name.out" 2>"$OUT/runs/$name.err" &
  wait "$!" || rc=$?
  ended=$(date +%s%N)

  # Count right away, from the kernel's table, inside the namespace (TIME_WAIT lasts 60 s).
  count_and_teardown "$ns"

  JSON="$(tail -n 1 "$OUT/runs/$name.out" 2>/dev/null || true)"
  if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$JSON"; then JSON='{}'; fi
  local errors first rps opened jclient jserver wall
  errors="$(j .errors)"; first="$(j .firstError)"; rps="$(j .requestsPerSecond)"
  opened="$(j .connectionsOpened)"; jclient="$(j .clientTimeWait)"; jserver="$(j .serverTimeWait)"
  wall=$(( (ended - started) / 1000000 ))
  log "  exit $rc in ${wall} ms; errors $errors; req/s $rps; connections $opened;" \
      "client TW kernel $kclient / CLI $jclient; server TW kernel $kserver / CLI $jserver;" \
      "TWRecycled $recycled; TCPTimeWaitOverflow $overflow"
  if [[ "$first" != "-" ]]; then log "  first error: $first"; fi

  check "$name" "finished within the ${RUN_TIMEOUT} s timeout (exit $rc)" ne_timeout "$rc"
  check "$name" "the CLI's last stdout line is a JSON object" jq -e 'length > 0' <<<"$JSON"
  check "$name" "the kernel dropped no TIME_WAIT (TCPTimeWaitOverflow = 0)" eq "$overflow" 0
  if [[ "$strategy" == naive ]]; then
    # The failure the lab exists to show: the port range runs out.
    check "$name" "exits 1 (requests failed), was $rc" eq "$rc" 1
    check "$name" "errors > 0, was $errors" ge "$errors" 1
    check "$name" "first error is 'Cannot assign requested address'" contains "$first" "Cannot assign requested address"
    check "$name" "kernel client TIME_WAIT ~ the $PORT_BUDGET-port range (>= 95%), was $kclient" ge "$kclient" $((PORT_BUDGET * 95 / 100))
    check "$name" "kernel client TIME_WAIT <= $PORT_BUDGET, was $kclient" le "$kclient" "$PORT_BUDGET"
    check "$name" "CLI clientTimeWait ~ the port range (>= 95%), was $jclient" ge "$jclient" $((PORT_BUDGET * 95 / 100))
    check "$name" "tcp_tw_reuse=1 reused nothing without timestamps (TWRecycled = 0), was $recycled" eq "$recycled" 0
  else
    check "$name" "exits 0, was $rc" eq "$rc" 0
    check "$name" "the JSON reports requests = $requests" eq "$(j .requests)" "$requests"
    check "$name" "0 errors, was $errors" eq "$errors" 0
    check "$name" "0 client TIME_WAIT in the kernel's table, was $kclient" eq "$kclient" 0
    check "$name" "CLI clientTimeWait = 0, was $jclient" eq "$jclient" 0
    if [[ "$strategy" == server-close ]]; then
      # nginx closes first, so its side keeps the TIME_WAIT: one per 4-tuple, not one
      # per connection. A new SYN on a tuple whose server end is in TIME_WAIT takes
      # that TIME_WAIT over (Linux accepts a SYN whose sequence number is past the old
      # connection's, no timestamps needed), and connect() tries the ports of the
      # range's low parity first (bind() takes the other half), so at the end nginx
      # holds ~1 TIME_WAIT per port that the client used: ~PORT_BUDGET/2 here, or
      # every connection when there were fewer connections than that.
      local opened_n=${opened//[!0-9]/}
      local want=$(( ${opened_n:-0} * 99 / 100 ))
      if (( want > PORT_BUDGET * 45 / 100 )); then want=$(( PORT_BUDGET * 45 / 100 )); fi
      check "$name" "connections opened >= 99% of requests (Connection: close), was $opened" \
        ge "$opened" $((requests * 99 / 100))
      check "$name" "TIME_WAIT on nginx's side >= $want (min(99% of connections, 45% of the port range)), was $kserver" \
        ge "$kserver" "$want"
    fi
  fi
  ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' \
    "$client" "$strategy" "$(j .requests)" "$errors" "$(md_cell "$first")" "$rps" "$(j .p99Ms)" \
    "$kclient" "$kserver" "$jclient / $jserver" "$opened" "$recycled")")
}

md_cell() {
  local s="${1//|/\\|}"
  if [[ ${#s} -gt 90 ]]; then s="${s:0:87}..."; fi
  printf '%s' "$s"
}

# ---------------------------------------------------------------------------------
# The exhaustion stage: its runs and its report
# ---------------------------------------------------------------------------------
exhaustion_stage() {
  write_nginx_conf
  log "nginx: $NGINX ($NGINX_VERSION); jar: $JAR; kernel $(uname -r)"
  log "namespace sysctls: tcp_timestamps=0 tcp_tw_reuse=1 ip_local_port_range=$PORT_LO $PORT_HI ($PORT_BUDGET ports)"
  LAB_START=$(date +%s)
  for client in $CLIENTS; do
    run_one "$client" naive "$NAIVE_REQUESTS"
  done
  for strategy in $STRATEGIES; do
    for client in $CLIENTS; do
      run_one "$client" "$strategy" "$REQUESTS"
    done
  done
  LAB_SECONDS=$(( $(date +%s) - LAB_START ))

  # ---------------------------------------------------------------------------------
  # The report
  # ---------------------------------------------------------------------------------
  REPORT="$OUT/clb-lab-report.md"
  {
    echo "# Load-balancer lab report"
    echo
    echo "Generated by \`scripts/clb-lab.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r);"
    echo "$NGINX_VERSION; $(java -version 2>&1 | head -n 1); $LAB_SECONDS s for all runs."
    echo "See docs/lab.md for what the lab shows."
    echo
    echo "## Set-up (a fresh network namespace per run)"
    echo
    echo "| sysctl (inside the namespace) | value | why |"
    echo "| --- | --- | --- |"
    echo "| net.ipv4.tcp_timestamps | 0 | as cloud load balancers have it |"
    echo "| net.ipv4.tcp_tw_reuse | 1 | the usual tuning: needs timestamps, so it does not help |"
    echo "| net.ipv4.ip_local_port_range | $PORT_LO $PORT_HI | $PORT_BUDGET ephemeral ports: exhaustion after ~$PORT_BUDGET connections |"
    echo
    echo "Server: nginx on 127.0.0.1:$NGINX_PORT inside the namespace, keepalive_timeout 75s,"
    echo "keepalive_requests 1000, a small static body. Client: \`java -jar timewait-load.jar load"
    echo "--url http://127.0.0.1:$NGINX_PORT/ --client C --strategy S --requests N --concurrency $CONCURRENCY --json\`."
    echo
    echo "## Runs"
    echo
    echo "Client and server TIME_WAIT are counted by the script from the kernel's table (\`ss -tan state"
    echo "time-wait\` inside the namespace, remote resp. local port = nginx's) right after the CLI exits;"
    echo "\"CLI TW\" is what the CLI itself read (client / server). TWRecycled is the namespace's count of"
    echo "TIME_WAIT sockets that tcp_tw_reuse reused."
    echo
    echo "| client | strategy | requests | errors | first error | req/s | p99 ms | client TW | server TW | CLI TW | connections opened | TWRecycled |"
    echo "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [[ ${#FAILURES[@]} -eq 0 ]]; then
      echo "All expectations held."
    else
      echo "## Failed expectations"
      echo
      printf -- '- %s\n' "${FAILURES[@]}"
    fi
  } > "$REPORT"
  log "report: $REPORT"

  if $COMMIT_REPORT; then
    cp "$REPORT" "$ROOT/docs/clb-lab-report.md"
    if (cd "$ROOT" && git add docs/clb-lab-report.md \
        && git commit -q -m "docs: load-balancer lab report" -- docs/clb-lab-report.md); then
      log "committed docs/clb-lab-report.md"
    else
      log "warning: could not commit docs/clb-lab-report.md (unchanged?)"
    fi
  fi
}

# ---------------------------------------------------------------------------------
# The limit stage (issue 19, --stage limit): what a strategy costs at the physical limit
# ---------------------------------------------------------------------------------
# A connection per request, as fast as the workers go, for a fixed time (LIMIT_DURATION, 60 s
# by default), against nginx in a fresh namespace with the DEFAULT ephemeral range (set
# explicitly: 32768-60999, 28,232 ports) and the balancer-like sysctls of the exhaustion stage
# (tcp_timestamps=0, so tcp_tw_reuse=1 can reuse nothing). Per client: naive (the same client
# without timewait, a new default client per request, closed by the client first) and each
# strategy (server-close, reset). Naive runs the whole duration too: it shows when connect()
# first fails with "Cannot assign requested address" and the rate before that, and then what
# it sustains over the minute (at most the port range per 60 s, the TIME_WAIT length).
#
# Every second the CLI samples requests, errors, the p99 and client and server TIME_WAIT from
# the kernel's table (/proc/net/tcp and tcp6, read by the JVM inside the namespace: the same
# samples as its --report charts), written with --series; the script adds its own `ss` count
# when the CLI exits. Asserted (the library's promise, as in the exhaustion stage): 0 client
# TIME_WAIT under each strategy; naive's first error, if any, is the port exhaustion; the
# kernel dropped no TIME_WAIT (TCPTimeWaitOverflow = 0: otherwise the limit would be
# tcp_max_tw_buckets, not the port range). Everything else is measured and reported, never
# asserted: rates, p99s and the server's TIME_WAIT (nginx keeps one per 4-tuple, and a new SYN
# takes a TIME_WAIT on its tuple over, so it holds about one per client port used).
LIMIT_PORT_LO=32768   # the kernel's default ip_local_port_range
LIMIT_PORT_HI=60999
LIMIT_ROWS=()         # tab-separated: client strategy and the measured fields (see limit_run)
# The CLI's --series header (SeriesCsv.HEADER); the combined series keeps it.
LIMIT_SERIES_HEADER="client,strategy,elapsedMs,requests,errors,p99Ms,clientTimeWait,serverTimeWait"
# Field N of a LIMIT_ROWS row (1 = client; the order is limit_run's printf).
limit_field() { cut -f "$2" <<<"$1"; }
LIMIT_SECONDS=0

# limit_run CLIENT STRATEGY: one run in a fresh namespace; its command, output and series in
# $OUT/runs/limit-STRATEGY-CLIENT.{cmd,out,err,csv}.
limit_run() {
  local client="$1" strategy="$2"
  local name="limit-$strategy-$client" ns rc kclient kserver recycled overflow buckets load1 dir="$OUT/runs"
  RUN_INDEX=$((RUN_INDEX + 1))
  ns="$NS_PREFIX-$RUN_INDEX"
  load1="$(awk '{print $1}' /proc/loadavg)"
  log "limit run $RUN_INDEX: $name for $LIMIT_DURATION s at concurrency $CONCURRENCY, a connection per request" \
      "(namespace $ns; load average $load1)"
  ns_create "$ns" "$LIMIT_PORT_LO" "$LIMIT_PORT_HI"
  buckets="$(ns_sysctl "$ns" net.ipv4.tcp_max_tw_buckets)"
  nginx_start "$ns"

  # --requests only bounds the latency array (8 bytes a slot): the duration ends the run.
  local requests=$(( LIMIT_DURATION * 100000 ))
  (( requests <= 10000000 )) || requests=10000000
  local cmd=(java -jar "$JAR" load --url "http://127.0.0.1:$NGINX_PORT/" --client "$client"
             --strategy "$strategy" --requests "$requests" --concurrency "$CONCURRENCY"
             --duration "$LIMIT_DURATION" --series "$dir/$name.csv" --quiet --json)
  local bound=$(( LIMIT_DURATION + 120 ))
  printf '%q ' ip netns exec "$ns" timeout -k 5 "$bound" "${cmd[@]}" > "$dir/$name.cmd"
  rc=0
  ip netns exec "$ns" timeout -k 5 "$bound" "${cmd[@]}" >"$dir/$name.out" 2>"$dir/$name.err" &
  wait "$!" || rc=$?

  count_and_teardown "$ns"

  JSON="$(tail -n 1 "$dir/$name.out" 2>/dev/null || true)"
  if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$JSON"; then JSON='{}'; fi
  local requests_done errors first first_ms ok_before duration_ms p99 opened
  requests_done="$(j .requests)"; errors="$(j .errors)"; first="$(j .firstError)"
  first_ms="$(j .firstErrorMs)"; ok_before="$(j .succeededBeforeFirstError)"
  duration_ms="$(j .durationMs)"; p99="$(j .p99Ms)"; opened="$(j .connectionsOpened)"

  # From the series: successful requests per second over the run, the rate in the last whole
  # interval that ended before the first error, and the largest TIME_WAIT counts sampled.
  local stats sustained before_rate max_ctw max_stw samples gap second_half
  stats="$(limit_series_stats "$dir/$name.csv" "$first_ms" "$LIMIT_DURATION")"
  read -r samples before_rate max_ctw max_stw gap second_half <<<"$stats"
  sustained="-"
  if [[ "$requests_done" =~ ^[0-9]+$ && "$errors" =~ ^[0-9]+$ && "$duration_ms" =~ ^[1-9][0-9]*$ ]]; then
    sustained="$(awk -v n=$((requests_done - errors)) -v ms="$duration_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')"
  fi
  local avg_before="-"
  if [[ "$first_ms" =~ ^[1-9][0-9]*$ && "$ok_before" =~ ^[0-9]+$ ]]; then
    avg_before="$(awk -v n="$ok_before" -v ms="$first_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')"
  fi
  log "  exit $rc; $requests_done requests, $errors errors; $sustained ok/s over ${duration_ms} ms; p99 $p99 ms;" \
      "$second_half ok/s in the second half; $samples samples, longest gap $gap s;" \
      "max TIME_WAIT client $max_ctw / server $max_stw (kernel at the end: $kclient / $kserver);" \
      "TWRecycled $recycled; TCPTimeWaitOverflow $overflow; tcp_max_tw_buckets $buckets"
  if [[ "$first" != "-" ]]; then
    log "  first error at $first_ms ms after $ok_before successful requests" \
        "(avg $avg_before ok/s until then; $before_rate ok/s in the last second before it): $first"
  fi

  check "$name" "finished within the ${bound} s timeout (exit $rc)" ne_timeout "$rc"
  check "$name" "the CLI's last stdout line is a JSON object" jq -e 'length > 0' <<<"$JSON"
  # The sampler sleeps a second between samples; on a machine busy with other work it wakes
  # late (the longest gap is reported), so only the series itself is required here.
  check "$name" "the series has samples (>= 2), had $samples" ge "$samples" 2
  check "$name" "the kernel dropped no TIME_WAIT (TCPTimeWaitOverflow = 0), was $overflow" eq "$overflow" 0
  if [[ "$strategy" == naive ]]; then
    if [[ "$errors" != 0 ]]; then
      check "$name" "the first error is 'Cannot assign requested address'" contains "$first" "Cannot assign requested address"
    fi
  else
    check "$name" "0 client TIME_WAIT in the kernel's table at the end, was $kclient" eq "$kclient" 0
    check "$name" "0 client TIME_WAIT in every sample, max was $max_ctw" eq "$max_ctw" 0
  fi
  LIMIT_ROWS+=("$(printf '%s\t' "$client" "$strategy" "$requests_done" "$errors" "$duration_ms" "$sustained" "$p99" \
    "$first_ms" "$ok_before" "$avg_before" "$before_rate" "$max_ctw" "$max_stw" "$kclient" "$kserver" "$opened" \
    "$load1" "$recycled" "$buckets" "${first//$'\t'/ }" "$samples" "$gap" "$second_half")")
}

# limit_series_stats CSV FIRST_ERROR_MS DURATION_S: "samples rate_before max_client_tw
# max_server_tw longest_gap_s second_half_rate", where rate_before is the successful requests per
# second of the last interval between samples that ended at or before the first error ("-"
# without an error), and second_half_rate the successful requests per second from the first
# sample at or after half the duration to the last (a warm JVM: the first half includes its
# start-up and JIT).
limit_series_stats() {
  # shellcheck disable=SC2016 # awk's $N
  awk -F, -v first="$2" -v half="$(( $3 * 500 ))" '
    NR == 1 { next }
    { n++; t = $3; ok = $4 - $5
      if ($7 != "" && $7 + 0 > mc) mc = $7 + 0
      if ($8 != "" && $8 + 0 > ms) ms = $8 + 0
      if (n > 1 && t - pt > gap) gap = t - pt
      if (first ~ /^[0-9]+$/ && n > 1 && t <= first + 0 && t > pt) before = (ok - pok) * 1000 / (t - pt)
      if (ht == "" && t >= half) { ht = t; hok = ok }
      pt = t; pok = ok }
    END { printf "%d %s %d %d %.1f %s\n", n, before == "" ? "-" : sprintf("%.0f", before), mc, ms, gap / 1000,
                 (ht == "" || pt <= ht) ? "-" : sprintf("%.0f", (pok - hok) * 1000 / (pt - ht)) }' "$1" 2>/dev/null \
    || echo "0 - - - - -"
}

# The chart: an SVG of the per-second series, one column per client, three panels each
# (successful requests per second, client TIME_WAIT, server TIME_WAIT), one line per run;
# a dashed line marks naive's first "Cannot assign requested address". Plain SVG 1.1 with
# no script or external reference, so that GitHub renders it inline in the Markdown.
# limit_svg SERIES_CSV FIRST_ERRORS_TSV OUT.svg TITLE   (FIRST_ERRORS_TSV: client<TAB>ms a line)
limit_svg() {
  # shellcheck disable=SC2016 # awk's $N
  awk -F'[,\t]' -v clients="$CLIENTS" -v strategies="naive $LIMIT_STRATEGIES" -v duration="$LIMIT_DURATION" \
      -v title="$4" '
    function nice(v,   p, m) { if (v <= 0) return 1; p = 10 ^ int(log(v) / log(10)); m = v / p
      return (m <= 1 ? 1 : m <= 1.2 ? 1.2 : m <= 1.6 ? 1.6 : m <= 2 ? 2 : m <= 2.4 ? 2.4 : m <= 3 ? 3 : m <= 4 ? 4 : m <= 5 ? 5 : m <= 6 ? 6 : m <= 8 ? 8 : 10) * p }
    function fmt(v) { return v >= 1000 ? sprintf("%gk", v / 1000) : sprintf("%g", v) }
    function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); return s }
    FILENAME == ARGV[1] { firstErr[$1] = $2; next }
    FNR == 1 { next }
    {
      key = $1 SUBSEP $2; t = $3 / 1000; ok = $4 - $5
      if (key in lastT && t - lastT[key] >= 0.5) {
        r = (ok - lastOk[key]) / (t - lastT[key])
        np[key, 0]++; px[key, 0, np[key, 0]] = t; py[key, 0, np[key, 0]] = r; if (r > ymax[0]) ymax[0] = r
      }
      if (!(key in lastT) || t - lastT[key] >= 0.5) { lastT[key] = t; lastOk[key] = ok }
      if ($7 != "") { np[key, 1]++; px[key, 1, np[key, 1]] = t; py[key, 1, np[key, 1]] = $7; if ($7 + 0 > ymax[1]) ymax[1] = $7 + 0 }
      if ($8 != "") { np[key, 2]++; px[key, 2, np[key, 2]] = t; py[key, 2, np[key, 2]] = $8; if ($8 + 0 > ymax[2]) ymax[2] = $8 + 0 }
    }
    END {
      nc = split(clients, C, " "); ns = split(strategies, S, " ")
      color["naive"] = "#d62728"; color["server-close"] = "#1f77b4"; color["reset"] = "#2ca02c"; color["pooled"] = "#9467bd"
      panel[0] = "successful requests/s"; panel[1] = "client TIME_WAIT"; panel[2] = "server TIME_WAIT (nginx)"
      W = 250; H = 150; L = 56; T = 86; GX = 24; GY = 40
      width = L + nc * (W + GX) + 8; height = T + 3 * (H + GY) + 28
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n", width, height, width, height
      printf "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
      printf "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", L, esc(title)
      lx = L
      for (s = 1; s <= ns; s++) {
        c = (S[s] in color) ? color[S[s]] : "#7f7f7f"
        printf "<line x1=\"%d\" y1=\"36\" x2=\"%d\" y2=\"36\" stroke=\"%s\" stroke-width=\"2.5\"/><text x=\"%d\" y=\"40\">%s</text>\n", lx, lx + 22, c, lx + 27, S[s]
        lx += 45 + 7 * length(S[s])
      }
      printf "<line x1=\"%d\" y1=\"36\" x2=\"%d\" y2=\"36\" stroke=\"#555\" stroke-dasharray=\"4,3\"/><text x=\"%d\" y=\"40\">naive: first \"Cannot assign requested address\"</text>\n", lx, lx + 22, lx + 27
      for (p = 0; p < 3; p++) {
        top = nice(ymax[p] * 1.05)
        for (ci = 1; ci <= nc; ci++) {
          x0 = L + (ci - 1) * (W + GX); y0 = T + p * (H + GY)
          if (p == 0) printf "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">%s</text>\n", x0, y0 - 22, esc(C[ci])
          printf "<text x=\"%d\" y=\"%d\" fill=\"#333\">%s</text>\n", x0, y0 - 5, panel[p]
          printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", x0, y0, W, H
          for (k = 0; k <= 4; k++) {
            yy = y0 + H - k * H / 4
            printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>", x0, yy, x0 + W, yy
            if (ci == 1) printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", x0 - 4, yy + 4, fmt(top * k / 4)
            printf "\n"
          }
          for (k = 0; k <= 4; k++) {
            xx = x0 + k * W / 4
            printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%g%s</text>\n", xx, y0 + H + 13, duration * k / 4, k == 4 ? " s" : ""
          }
          if (p == 0 && (C[ci] in firstErr) && firstErr[C[ci]] ~ /^[0-9]+$/) {
            xx = x0 + (firstErr[C[ci]] / 1000) / duration * W
            if (xx <= x0 + W) for (q = 0; q < 3; q++)
              printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\" stroke-dasharray=\"4,3\"/>\n", xx, T + q * (H + GY), xx, T + q * (H + GY) + H
          }
          for (s = 1; s <= ns; s++) {
            key = C[ci] SUBSEP S[s]; n = np[key, p]
            if (n == 0) continue
            c = (S[s] in color) ? color[S[s]] : "#7f7f7f"
            printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"", c
            for (i = 1; i <= n; i++) {
              xv = px[key, p, i]; if (xv > duration) xv = duration
              printf "%.1f,%.1f ", x0 + xv / duration * W, y0 + H - py[key, p, i] / top * H
            }
            printf "\"/>\n"
          }
        }
      }
      printf "</svg>\n"
    }' "$2" "$1" > "$3"
}

# The stage's report: set-up, one table per client, the chart; and the combined series.
limit_report() {
  local report="$OUT/limit-run.md" csv="$OUT/limit-run.csv" svg="$OUT/limit-run.svg" firsts="$TMP/limit-first.tsv"
  local row client strategy f
  # The combined series, in run order (naive, then the strategies, per client).
  echo "$LIMIT_SERIES_HEADER" > "$csv"
  for client in $CLIENTS; do
    for strategy in naive $LIMIT_STRATEGIES; do
      f="$OUT/runs/limit-$strategy-$client.csv"
      if [[ -s "$f" ]]; then tail -n +2 "$f" >> "$csv"; fi
    done
  done
  : > "$firsts"
  for row in "${LIMIT_ROWS[@]}"; do
    f="$(limit_field "$row" 8)"
    if [[ "$(limit_field "$row" 2)" == naive && "$f" =~ ^[0-9]+$ ]]; then
      printf '%s\t%s\n' "$(limit_field "$row" 1)" "$f" >> "$firsts"
    fi
  done
  limit_svg "$csv" "$firsts" "$svg" \
    "A connection per request for $LIMIT_DURATION s, 28,232 ephemeral ports, timestamps off ($(date -u +%Y-%m-%d))"
  local cmdline="sudo scripts/clb-lab.sh --stage limit"
  [[ "$LIMIT_DURATION" == 60 ]] || cmdline+=" --limit-duration $LIMIT_DURATION"
  [[ "$CLIENTS" == "hc5 hc5-async okhttp reactor-netty" ]] || cmdline+=" --clients \"$CLIENTS\""
  [[ "$LIMIT_STRATEGIES" == "server-close reset" ]] || cmdline+=" --strategies \"$LIMIT_STRATEGIES\""
  [[ "$CONCURRENCY" == 16 ]] || cmdline+=" --concurrency $CONCURRENCY"
  {
    echo "Generated by \`$cmdline\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($LIMIT_SECONDS s for"
    echo "${#LIMIT_ROWS[@]} runs): kernel $(uname -r), $(nproc) cores, $NGINX_VERSION, $(java -version 2>&1 | awk 'NR == 1')."
    echo "Load average $LIMIT_LOAD_START at the start, $(awk '{print $1}' /proc/loadavg) at the end, each run's at its start in the"
    echo "tables: a run keeps it at about its own $CONCURRENCY client threads plus nginx; more than that means other work"
    echo "shared the machine, which weighs on the rates and the p99s, not on the port budget."
    echo
    echo "Each run: a fresh network namespace, Debian's nginx on 127.0.0.1:$NGINX_PORT inside it (one worker,"
    echo "keep-alive on, a small static body, \`access_log off\`), and the load CLI inside it:"
    echo
    echo '```'
    echo "java -jar examples/target/timewait-load.jar load --url http://127.0.0.1:$NGINX_PORT/ --client C \\"
    echo "  --strategy naive|server-close|reset --concurrency $CONCURRENCY --duration $LIMIT_DURATION \\"
    echo "  --requests $(( LIMIT_DURATION * 100000 > 10000000 ? 10000000 : LIMIT_DURATION * 100000 )) --series RUN.csv --quiet --json"
    echo '```'
    echo
    echo "| sysctl (inside the namespace) | value | why |"
    echo "| --- | --- | --- |"
    echo "| net.ipv4.ip_local_port_range | $LIMIT_PORT_LO $LIMIT_PORT_HI | the kernel's default, set explicitly: $((LIMIT_PORT_HI - LIMIT_PORT_LO + 1)) ephemeral ports |"
    echo "| net.ipv4.tcp_timestamps | 0 | as behind a cloud load balancer, which strips them |"
    echo "| net.ipv4.tcp_tw_reuse | 1 | the usual tuning; it needs timestamps, so here it reuses nothing (TWRecycled 0) |"
    echo "| net.ipv4.tcp_max_tw_buckets | $LIMIT_BUCKETS (the namespace's default) | above the port range, so the ports run out first (TCPTimeWaitOverflow 0) |"
    echo
    echo "![Successful requests/s, client and server TIME_WAIT per second, naive vs the strategies](limit-run.svg)"
    echo
    echo "Columns: **ok/s** successful requests per second over the whole run, and from the sample nearest"
    echo "half-time to the end (**2nd half**: a warm JVM); **p99** of the successful"
    echo "requests; **max client/server TW** the largest TIME_WAIT counts of the once-a-second samples (the"
    echo "kernel's table read inside the namespace; *end* is \`ss\` right after the CLI exited). Naive only:"
    echo "**first error** when \`connect()\` first failed with \`Cannot assign requested address\`, after how many"
    echo "successful requests, their average rate, and the rate in the last whole second before it."
    echo "**samples**: the CLI samples once a second, after a 1 s sleep; on a busy machine it wakes late,"
    echo "and the longest gap between two samples says how late."
    echo
    for client in $CLIENTS; do
      echo "**$client**"
      echo
      echo "| run | ok/s | ok/s, 2nd half | errors | p99 ms | first error at | ok before it | ok/s until it (last second) | max client TW | max server TW | TW at the end, client / server | connections opened | samples (longest gap) | load avg |"
      echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
      for row in "${LIMIT_ROWS[@]}"; do
        local c st req err dur sus p99 fms okb avgb lastb mct mst kc ks op la
        IFS=$'\t' read -r c st req err dur sus p99 fms okb avgb lastb mct mst kc ks op la _ <<<"$row"
        [[ "$c" == "$client" ]] || continue
        local at="-" until="-"
        if [[ "$fms" =~ ^[0-9]+$ ]]; then at="$(awk -v ms="$fms" 'BEGIN { printf "%.1f s", ms / 1000 }')"; until="$avgb ($lastb)"; fi
        [[ "$okb" =~ ^[0-9]+$ ]] || okb="-"
        echo "| $st | $sus | $(limit_field "$row" 23) | $err of $req | $p99 | $at | $okb | $until | $mct | $mst | $kc / $ks | $op |" \
             "$(limit_field "$row" 21) ($(limit_field "$row" 22) s) | $la |"
      done
      echo
    done
    echo "First errors (other than naive's expected one) and anything unexpected:"
    echo
    local any=false
    for row in "${LIMIT_ROWS[@]}"; do
      c="$(limit_field "$row" 1)"; st="$(limit_field "$row" 2)"; err="$(limit_field "$row" 4)"
      f="$(limit_field "$row" 20)"
      if [[ "$err" != 0 && "$st" != naive ]]; then echo "- $c $st: $err errors, first: $(md_cell "$f")"; any=true; fi
      if [[ "$st" == naive && "$err" == 0 ]]; then echo "- $c naive: no error within $LIMIT_DURATION s (the ports did not run out)"; any=true; fi
    done
    $any || echo "- none: every strategy run had 0 errors, every naive run ended in port exhaustion."
    if [[ ${#FAILURES[@]} -gt 0 ]]; then
      echo
      echo "Failed expectations:"
      echo
      printf -- '- %s\n' "${FAILURES[@]}"
    fi
  } > "$report"
  log "limit report: $report; chart: $svg; series: $csv"

  if $COMMIT_REPORT; then
    limit_commit "$report" "$svg" "$csv"
  fi
}

# --commit-report: the chart and the series to docs/, the generated block of docs/benchmarks.md
# (between its limit-run markers) replaced by the report, and one commit of the three.
LIMIT_BEGIN='<!-- limit-run: generated by scripts/clb-lab.sh --stage limit --commit-report, do not edit by hand -->'
LIMIT_END='<!-- /limit-run -->'
limit_commit() {
  local report="$1" svg="$2" csv="$3" doc="$ROOT/docs/benchmarks.md"
  if ! grep -qxF -- "$LIMIT_BEGIN" "$doc" || ! grep -qxF -- "$LIMIT_END" "$doc"; then
    log "warning: docs/benchmarks.md has no limit-run markers; not committing (the report is $report)"
    return 0
  fi
  cp "$svg" "$ROOT/docs/limit-run.svg"
  cp "$csv" "$ROOT/docs/limit-run.csv"
  # shellcheck disable=SC2016 # awk's $0
  awk -v begin="$LIMIT_BEGIN" -v end="$LIMIT_END" -v report="$report" '
    $0 == begin { print; while ((getline line < report) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$doc" > "$TMP/benchmarks.md"
  cat "$TMP/benchmarks.md" > "$doc"
  if (cd "$ROOT" && git add docs/limit-run.svg docs/limit-run.csv docs/benchmarks.md \
      && git commit -q -m "docs: issue 19's physical-limit run (scripts/clb-lab.sh --stage limit)" \
         -- docs/limit-run.svg docs/limit-run.csv docs/benchmarks.md); then
    log "committed docs/limit-run.svg, docs/limit-run.csv and the generated block of docs/benchmarks.md"
  else
    log "warning: could not commit the limit run's docs (unchanged?)"
  fi
}

limit_stage() {
  local t0 client strategy
  write_nginx_conf
  LIMIT_LOAD_START="$(awk '{print $1}' /proc/loadavg)"
  log "limit stage: clients $CLIENTS; naive and $LIMIT_STRATEGIES; $LIMIT_DURATION s each at concurrency $CONCURRENCY;" \
      "ip_local_port_range $LIMIT_PORT_LO $LIMIT_PORT_HI, tcp_timestamps=0, tcp_tw_reuse=1; load average $LIMIT_LOAD_START"
  t0=$(date +%s)
  for client in $CLIENTS; do
    for strategy in naive $LIMIT_STRATEGIES; do
      limit_run "$client" "$strategy"
    done
  done
  LIMIT_SECONDS=$(( $(date +%s) - t0 ))
  LIMIT_BUCKETS="$(limit_field "${LIMIT_ROWS[0]:-}" 19)"
  limit_report
}

# ---------------------------------------------------------------------------------
# The balancer stage (issue 14): requests sent into pooled connections that the peer
# already closed while they sat idle
# ---------------------------------------------------------------------------------
# Every row of a scenario gets a listening port of its own (plain: B_PLAIN_BASE+i, TLS:
# B_TLS_BASE+i) on HAProxy or on the server itself. So the rows of a scenario run at once
# in one namespace (they sleep most of the time), and each row's client TIME_WAIT is still
# read from the kernel's table alone: a client socket's remote port names its row. These
# ports lie below the namespace's ephemeral range (checked), so no client socket takes one.
B_PLAIN_BASE=20000
B_TLS_BASE=21000
B_BACKEND_A=8081
B_BACKEND_B=8082
# A JVM per row and up to 30 rows at once on 2 cores: a small heap and C1 only keep their
# start-up cheap. Neither changes what the clients do on the wire.
B_JVM=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -Xms16m -Xmx128m)
B_TRUST_PW=changeit
B_WARMUP=1   # one request: on a fresh connection, so it cannot meet one the peer closed
B_READY_MAX=240     # seconds the rows of a scenario may take to be ready (JVM start, warm-up)
B_SECONDS=0
B_ROWS=()           # report rows: tab-separated fields, see the end of bl_check_row
B_ROW_FAILURES=()   # pooled rows that broke the issue's promise (enforced unless --balancer-assert report)
B_HARNESS_FAILED=() # row log prefixes whose harness expectations failed (always enforced)
B_SKIPPED=()
B_SCEN_LINES=()     # report: one line per scenario run

# Sets the S_* variables of scenario $1.
bl_scenario() {
  S_TLS=$B_TLS; S_BACKENDS=1; S_KILL=false; S_DURATION=""; S_IDLE=""
  S_KA_TIMEOUT=75s; S_KA_REQUESTS=1000; S_BURSTS=$B_BURSTS
  case "$1" in
    a) S_SERVER=haproxy; S_IDLE=1s; S_GAP=800-1400
       S_TITLE="HAProxy, timeout http-keep-alive 1s, nginx behind it" ;;
    b) S_SERVER=haproxy; S_IDLE=5s; S_GAP=4600-5600; S_BURSTS=$(( (B_BURSTS + 1) / 2 ))
       S_TITLE="HAProxy, timeout http-keep-alive 5s, nginx behind it" ;;
    c) S_SERVER=nginx; S_TLS=false; S_KA_TIMEOUT=2s; S_GAP=1800-2400
       S_TITLE="nginx alone, keepalive_timeout 2s (not announced in a Keep-Alive header)" ;;
    d) S_SERVER=nginx; S_TLS=false; S_KA_REQUESTS=3; S_GAP=100-300
       S_TITLE="nginx alone, keepalive_requests 3 (Connection: close on every 3rd response)" ;;
    e) S_SERVER=http10; S_TLS=false; S_GAP=100-300
       S_TITLE="an HTTP/1.0 server (Python's http.server): closes after every response" ;;
    f) S_SERVER=haproxy; S_IDLE=10s; S_GAP=300-500; S_BACKENDS=2; S_KILL=true; S_DURATION=$(( 2 * B_BURSTS ))
       S_TITLE="HAProxy (idle 10s) over two nginx backends; one backend killed (SIGKILL) mid-run" ;;
  esac
}

# The rows of the current scenario, one a line: "transport client strategy retirement method".
bl_rows() {
  local t c r m
  for t in plain $($S_TLS && echo tls); do
    for c in $B_CLIENTS; do
      for r in reset server-close; do
        for m in GET POST; do echo "$t $c pooled $r $m"; done
      done
    done
    for c in $B_CLIENTS; do echo "$t $c raw - GET"; done
  done
}

# A fresh namespace with loopback up and timestamps off (as cloud balancers have them),
# read back. The ephemeral range is the namespace's default; the rows' ports must lie below it.
bl_ns_create() {
  local ns="$1" range
  NS="$ns"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_timestamps=0
  [[ "$(ns_sysctl "$ns" net.ipv4.tcp_timestamps)" == 0 ]] || fatal "$ns: tcp_timestamps did not read back as 0"
  range="$(ns_sysctl "$ns" net.ipv4.ip_local_port_range)"
  (( ${range%% *} > B_TLS_BASE + 1000 )) || fatal "$ns: ephemeral range '$range' overlaps the rows' ports"
}

# Waits (bounded: 10 s) until something listens on 127.0.0.1:$2 in namespace $1, looking at
# the kernel's table rather than connecting (a probe would be one more connection to count).
bl_wait_listen() {
  local ns="$1" port="$2" what="$3" i
  for ((i = 0; i < 100; i++)); do
    [[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :$port")" ]] && return 0
    sleep 0.1
  done
  fatal "$what did not listen on 127.0.0.1:$port in $ns within 10 s"
}

# nginx config in dir $1: keepalive_timeout $2, keepalive_requests $3, listening on the
# ports that follow. `return` answers POST too (nginx reads and discards the body first).
bl_nginx_conf() {
  local dir="$1" ka_timeout="$2" ka_requests="$3" port listens=""
  shift 3
  for port in "$@"; do listens+="    listen 127.0.0.1:$port backlog=1024;"$'\n'; done
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<EOF
# Written by scripts/clb-lab.sh; runs inside the lab's network namespace only.
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  keepalive_timeout $ka_timeout;
  keepalive_requests $ka_requests;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
$listens    location / {
      default_type text/plain;
      return 200 "hello from nginx in the timewait lab\n";
    }
  }
}
EOF
  "$NGINX" -t -q -e "$dir/logs/error.log" -p "$dir" -c "$dir/nginx.conf" 2>"$dir/nginx-t.log" \
    || { cat "$dir/nginx-t.log"; fatal "nginx rejected the balancer stage's config in $dir"; }
}

bl_nginx_start() {  # NS DIR PORT
  ip netns exec "$1" "$NGINX" -e "$2/logs/error.log" -p "$2" -c "$2/nginx.conf" || fatal "nginx ($2) did not start in $1"
  bl_wait_listen "$1" "$3" "nginx ($2)"
}

# HAProxy config in dir $1: idle timeout $2, $3 plain and $4 TLS rows, $5 backends.
# timeout http-keep-alive is the idle wait between requests: HAProxy closes (FIN) a client
# connection idle that long after a response (measured here: 1.00 s for 1s). timeout client
# and timeout http-request stay at 30 s, above every idle gap: set to 1 s, they also cut
# TLS handshakes and first requests of JVMs slowed by start-up (408 Request Timeout,
# "Remote host terminated the handshake"), which are no idle close.
# Two backends (scenario f): health checks every 500 ms, and redispatch, so that after the
# kill new requests go to the live one, as an operator would set it up.
bl_haproxy_conf() {
  local dir="$1" idle="$2" plain="$3" tls="$4" backends="$5" servers binds=""
  mkdir -p "$dir"
  binds+="  bind 127.0.0.1:$B_PLAIN_BASE-$((B_PLAIN_BASE + plain - 1))"$'\n'
  if (( tls > 0 )); then
    binds+="  bind 127.0.0.1:$B_TLS_BASE-$((B_TLS_BASE + tls - 1)) ssl crt $TMP/tls/haproxy.pem"$'\n'
  fi
  if (( backends == 1 )); then
    servers="  server a 127.0.0.1:$B_BACKEND_A"
  else
    servers="  server a 127.0.0.1:$B_BACKEND_A check inter 500ms fall 2 rise 2"$'\n'
    servers+="  server b 127.0.0.1:$B_BACKEND_B check inter 500ms fall 2 rise 2"
  fi
  cat > "$dir/haproxy.cfg" <<EOF
# Written by scripts/clb-lab.sh; runs inside the lab's network namespace only.
global
  daemon
  pidfile $dir/haproxy.pid
  nbthread 1
  maxconn 4096
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  option http-keep-alive
  timeout connect 2s
  timeout client 30s
  timeout http-keep-alive $idle
  timeout http-request 30s
  timeout server 30s
  retries 3
  option redispatch
frontend rows
$binds  default_backend nginx
backend nginx
  balance roundrobin
$servers
EOF
  "$HAPROXY" -c -q -f "$dir/haproxy.cfg" >"$dir/haproxy-c.log" 2>&1 \
    || { cat "$dir/haproxy-c.log"; fatal "haproxy rejected the balancer stage's config in $dir"; }
}

bl_haproxy_start() {  # NS DIR
  ip netns exec "$1" "$HAPROXY" -q -f "$2/haproxy.cfg" >"$2/haproxy.log" 2>&1 \
    || { cat "$2/haproxy.log"; fatal "haproxy did not start in $1"; }
  bl_wait_listen "$1" "$B_PLAIN_BASE" haproxy
}

# The HTTP/1.0 server of scenario e: Python's http.server classes, as `python3 -m
# http.server` uses them (HTTP/1.0, so one response per connection, then the server
# closes), with a POST handler added (the module's own server answers POST with 501).
# It reads the whole body first: closing on unread bytes would send an RST instead.
bl_http10_script() {
  cat > "$TMP/http10.py" <<'EOF'
# Written by scripts/clb-lab.sh: an HTTP/1.0 server on every port given, in one process.
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"hello from an HTTP/1.0 server in the timewait lab\n"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def reply(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def do_GET(self):
        self.reply()

    def do_POST(self):
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)
        self.reply()

    def log_message(self, *args):
        pass

servers = [ThreadingHTTPServer(("127.0.0.1", int(p)), Handler) for p in sys.argv[1:]]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
EOF
}

# A self-signed certificate for 127.0.0.1 (HAProxy's PEM: certificate and key) and a
# PKCS12 truststore holding it, for the CLI's --truststore. Made once per invocation.
bl_tls_material() {
  [[ -f "$TMP/tls/trust.p12" ]] && return 0
  mkdir -p "$TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=timewait-lab" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" >"$TMP/tls/openssl.log" 2>&1 \
    || { cat "$TMP/tls/openssl.log"; fatal "openssl could not make the lab's certificate"; }
  cat "$TMP/tls/cert.pem" "$TMP/tls/key.pem" > "$TMP/tls/haproxy.pem"
  "$KEYTOOL" -importcert -noprompt -alias timewait-lab -file "$TMP/tls/cert.pem" \
    -keystore "$TMP/tls/trust.p12" -storetype PKCS12 -storepass "$B_TRUST_PW" >"$TMP/tls/keytool.log" 2>&1 \
    || { cat "$TMP/tls/keytool.log"; fatal "keytool could not make the lab's truststore"; }
}

# Class-data sharing: a row's JVM spends most of its CPU loading and verifying the same
# classes as every other row. An archive of them per client, dumped once per invocation
# from a run like a TLS row's (HAProxy terminating TLS in front of nginx, in a namespace of
# its own), cuts each row's start-up CPU: by about a quarter for the client's own classes
# alone (0.88 -> 0.65 s measured), more with JSSE's. Without an archive rows run as is.
bl_cds_archives() {
  local c ns="$NS_PREFIX-cds" sdir="$TMP/bl-cds" tls=0
  local -a target=(--url "http://127.0.0.1:$B_PLAIN_BASE/")
  if $B_TLS; then
    bl_tls_material
    tls=1
    target=(--url "https://127.0.0.1:$B_TLS_BASE/" --truststore "$TMP/tls/trust.p12" --truststore-password "$B_TRUST_PW")
  fi
  bl_ns_create "$ns"
  bl_nginx_conf "$sdir/nginx-a" 75s 1000 "$B_BACKEND_A"
  bl_nginx_start "$ns" "$sdir/nginx-a" "$B_BACKEND_A"
  bl_haproxy_conf "$sdir/haproxy" 10s 1 "$tls" 1
  bl_haproxy_start "$ns" "$sdir/haproxy"
  for c in $B_CLIENTS; do
    fg_wait ip netns exec "$ns" timeout 120 java "${B_JVM[@]}" -XX:ArchiveClassesAtExit="$TMP/cds-$c.jsa" -jar "$JAR" \
      load "${target[@]}" --client "$c" --strategy pooled --method POST --requests 2 --concurrency 1 \
      >"$TMP/cds-$c.log" 2>&1 || true
    [[ -s "$TMP/cds-$c.jsa" ]] || log "  no class-data archive for $c (see $TMP/cds-$c.log): its rows start without one"
  done
  ns_destroy "$ns"
  NS=""
}

# The JVM options of a row of client $1.
bl_jvm() {
  printf '%s\n' "${B_JVM[@]}"
  if [[ -s "$TMP/cds-$1.jsa" ]]; then printf '%s\n' -XX:SharedArchiveFile="$TMP/cds-$1.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off; fi
}

# Waits until all $2 rows (logs in $1) have said they are ready, or have ended (a row that
# failed to start is the harness's finding, below). Bounded: B_READY_MAX s, then the rows
# that are ready start anyway (a late one starts when it is ready: it finds the signal).
bl_await_ready() {
  local dir="$1" rows="$2" done_n i rc
  # One grep over all rows per look (not one per row): the JVMs need the CPU meanwhile.
  for ((i = 0; i < B_READY_MAX * 4; i++)); do
    done_n="$( { grep -l -- "^load: ready, waiting for" "$dir"/*.err 2>/dev/null || true
                 for rc in "$dir"/*.rc; do if [[ -e "$rc" ]]; then echo "${rc%.rc}.err"; fi; done; } | sort -u | wc -l)"
    (( done_n >= rows )) && return 0
    sleep 0.25
  done
  log "  warning: $((rows - done_n)) rows not ready after $B_READY_MAX s; starting the others"
}

# Scenario f: at the instant $2 (epoch ms, mid-run), SIGKILL backend b, master and worker,
# by pid: its connections die with it (the kernel sends their FIN or RST), as when a
# backend crashes. HAProxy's checks then take it out; redispatch sends new requests to a.
bl_kill_backend_at() {
  local dir="$1" at_ms="$2" wait_ms master workers
  wait_ms=$(( at_ms - $(date +%s%3N) ))
  if (( wait_ms > 0 )); then sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"; fi
  master="$(cat "$dir/nginx.pid")"
  workers="$(ps -o pid= --ppid "$master" | xargs || true)" # none left is no error: the master dies all the same
  # shellcheck disable=SC2086 # the pid list is meant to split
  kill -KILL "$master" $workers
  B_KILL_NOTE="backend b killed (nginx master $master, worker $workers) $(( $(date +%s%3N) - at_ms + S_DURATION * 500 )) ms after the rows started"
  log "  $B_KILL_NOTE"
}

# Runs scenario $1: a namespace, its servers, every row at once, the checks, teardown.
B_SCEN_INDEX=0
bl_run_scenario() {
  local id="$1" ns dir row t c st r m port url name seed plain=0 tls=0 timeout_s gap_max started start_ms
  local -a rows args names ports kinds jvm
  bl_scenario "$id"
  if [[ "$S_SERVER" == http10 && -z "$PYTHON" ]]; then
    log "scenario $id SKIPPED: python3 is missing ($S_TITLE)"
    B_SKIPPED+=("$id: python3 is missing")
    return 0
  fi
  B_SCEN_INDEX=$((B_SCEN_INDEX + 1))
  RUN_INDEX=$((RUN_INDEX + 1))
  ns="$NS_PREFIX-$RUN_INDEX"
  dir="$OUT/balancer/$id"
  mkdir -p "$dir"
  mapfile -t rows < <(bl_rows)
  # Ports first: the servers listen on exactly the rows' ports.
  for row in "${rows[@]}"; do
    read -r t c st r m <<<"$row"
    if [[ "$t" == plain ]]; then port=$((B_PLAIN_BASE + plain)); plain=$((plain + 1));
    else port=$((B_TLS_BASE + tls)); tls=$((tls + 1)); fi
    ports+=("$port")
  done
  log "scenario $id: $S_TITLE; ${#rows[@]} rows at once, idle gaps $S_GAP ms (namespace $ns)"

  bl_ns_create "$ns"
  local sdir="$TMP/bl-$id"
  case "$S_SERVER" in
    haproxy)
      bl_nginx_conf "$sdir/nginx-a" 75s 1000 "$B_BACKEND_A"
      bl_nginx_start "$ns" "$sdir/nginx-a" "$B_BACKEND_A"
      if (( S_BACKENDS == 2 )); then
        bl_nginx_conf "$sdir/nginx-b" 75s 1000 "$B_BACKEND_B"
        bl_nginx_start "$ns" "$sdir/nginx-b" "$B_BACKEND_B"
      fi
      (( tls == 0 )) || bl_tls_material
      bl_haproxy_conf "$sdir/haproxy" "$S_IDLE" "$plain" "$tls" "$S_BACKENDS"
      bl_haproxy_start "$ns" "$sdir/haproxy"
      ;;
    nginx)
      bl_nginx_conf "$sdir/nginx" "$S_KA_TIMEOUT" "$S_KA_REQUESTS" "${ports[@]}"
      bl_nginx_start "$ns" "$sdir/nginx" "${ports[0]}"
      ;;
    http10)
      bl_http10_script
      ip netns exec "$ns" "$PYTHON" "$TMP/http10.py" "${ports[@]}" >"$sdir-http10.log" 2>&1 &
      bl_wait_listen "$ns" "${ports[-1]}" "the HTTP/1.0 server"
      ;;
  esac

  # Every row at once, each under timeout: the wait at the barrier at its longest, the
  # bursts' sleeps at their longest (2 s more per burst for its requests), the run's duration
  # (f), and a minute for the CLI's settle and exit on a busy machine.
  gap_max=${S_GAP#*-}
  timeout_s=$(( B_READY_MAX + S_BURSTS * (gap_max / 1000 + 2) + ${S_DURATION:-0} + 60 ))
  # Every row starts its load at one instant, once every JVM has started, built its client
  # and sent B_WARMUP requests (not counted: class loading, JIT, TLS set-up; ~1-2 CPU-s per
  # row, tens of seconds for 30 rows on a busy 2-core machine): a barrier. Each CLI says it
  # is ready on stderr and waits for the signal file (--start-signal), which the script
  # creates when all have said so. Otherwise the first rows' bursts would run while later
  # JVMs start on the same cores, and in f some rows would only begin after the kill. The
  # warm-up connections then idle through the wait: the first burst may meet them closed by
  # the peer (a, b, c), which is the case under test too.
  local signal="$dir/.start"
  rm -f -- "$signal"
  ROW_PIDS=()
  local i=0
  for row in "${rows[@]}"; do
    read -r t c st r m <<<"$row"
    port="${ports[$i]}"
    if [[ "$st" == pooled ]]; then name="$t-$c-pooled-$r-$m"; else name="$t-$c-$st-$m"; fi
    seed=$(( 14000 + B_SCEN_INDEX * 100 + i ))
    if [[ "$t" == tls ]]; then url="https://127.0.0.1:$port/"; else url="http://127.0.0.1:$port/"; fi
    args=(load --url "$url" --client "$c" --strategy "$st" --method "$m" --retries off --concurrency 1
          --burst "$B_BURST" --idle-gap "$S_GAP" --seed "$seed" --warmup "$B_WARMUP" --start-signal "$signal" --json)
    [[ "$st" == pooled ]] && args+=(--retirement "$r")
    if [[ -n "$S_DURATION" ]]; then args+=(--requests 100000 --duration "$S_DURATION");
    else args+=(--requests $((S_BURSTS * B_BURST))); fi
    [[ "$t" == tls ]] && args+=(--truststore "$TMP/tls/trust.p12" --truststore-password "$B_TRUST_PW")
    mapfile -t jvm < <(bl_jvm "$c")
    printf '%q ' ip netns exec "$ns" timeout -k 5 "$timeout_s" java "${jvm[@]}" -jar "$JAR" "${args[@]}" > "$dir/$name.cmd"
    # The row's client TIME_WAIT is counted the moment its CLI exits (TIME_WAIT lasts 60 s;
    # the slowest scenario runs longer than that), towards the row's own port.
    (
      rc=0
      ip netns exec "$ns" timeout -k 5 "$timeout_s" java "${jvm[@]}" -jar "$JAR" "${args[@]}" \
        >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
      # A failed ss writes "-", a harness failure (before: its message counted as one socket).
      if tw="$(ip netns exec "$ns" ss -Htan state time-wait "dport = :$port")"; then
        printf '%s\n' "$tw" | awk 'NF' | wc -l > "$dir/$name.tw"
      else
        echo "-" > "$dir/$name.tw"
      fi
      echo "$rc" > "$dir/$name.rc"
    ) &
    ROW_PIDS+=("$!")
    names+=("$name"); kinds+=("$t $c $st $r $m")
    i=$((i + 1))
  done
  started=$(date +%s)
  bl_await_ready "$dir" "${#names[@]}"
  touch "$signal"
  start_ms=$(date +%s%3N)
  B_KILL_NOTE=""
  if $S_KILL; then bl_kill_backend_at "$sdir/nginx-b" $(( start_ms + S_DURATION * 500 )); fi
  local pid
  for pid in "${ROW_PIDS[@]}"; do wait "$pid" || true; done
  ROW_PIDS=()
  local wall=$(( $(date +%s) - started ))
  ns_destroy "$ns"   # stops every server of the scenario: they all run inside it
  NS=""
  local load="$((S_BURSTS * B_BURST)) requests per row"
  [[ -z "$S_DURATION" ]] || load="$S_DURATION s per row"
  B_SCEN_LINES+=("| $id | $S_TITLE${B_KILL_NOTE:+; $B_KILL_NOTE} | $S_GAP ms | $($S_TLS && echo "plain, TLS" || echo plain) | $load | $wall s |")

  B_CHECK_TIME="$(date -u +%H:%M:%S)"
  for ((i = 0; i < ${#names[@]}; i++)); do
    bl_check_row "$id" "$dir/${names[$i]}" ${kinds[$i]}
  done
  log "scenario $id: done in $wall s (rows ready after $(( (start_ms / 1000) - started )) s, then the load)"
}

# Checks one row: the harness's expectations always; for pooled rows, issue 14's promise.
# True when error $1 says the exchange ended after the request went out, without a
# (complete) response: what a client sees when the balancer drops a request whose backend
# died. Not a local close ("Socket closed", "Connection is closed"), nor a refused connect:
# those requests never reached the balancer, so they are never "lost" but failed.
bl_dropped_after_sending() {
  case "$1" in
    # Reactor Netty says "prematurely closed BEFORE response" only once the whole request was
    # sent (while still sending it says "closed BEFORE response, while sending request body").
    *NoHttpResponseException*|*"unexpected end of stream"*|*"Connection closed by peer"*|*"Connection reset"*) return 0 ;;
    *"Connection prematurely closed BEFORE response"*) return 0 ;;
    "HTTP 502 "*|"HTTP 503 "*|"HTTP 504 "*) return 0 ;;
    *) return 1 ;;
  esac
}

# Few forks per row (one jq): on a busy machine 135 rows of cat/tail/date cost seconds.
bl_check_row() {
  local id="$1" f="$2" t="$3" c="$4" st="$5" r="$6" m="$7"
  local rc=missing tw=- json='{}' errors=- sent=- warm_errors=- first="" first_at="" verdict label harness=() lines=()
  [[ -s "$f.rc" ]] && read -r rc < "$f.rc"
  [[ -s "$f.tw" ]] && read -r tw < "$f.tw"
  [[ "$tw" =~ ^[0-9]+$ ]] || tw="-"
  [[ -s "$f.out" ]] && mapfile -t lines < "$f.out"
  if [[ ${#lines[@]} -gt 0 ]]; then
    local fields
    # Where the first failure came (requests that had succeeded, ms into the load): a failure at
    # request 0 met the warm-up's connection after the barrier's wait, not a seeded gap. Last:
    # read collapses empty fields between tabs.
    fields="$(jq -r 'select(type == "object") | [.errors // "-", .requests // "-", .warmupErrors // "-",
                       .firstError // "",
                       (if .succeededBeforeFirstError == null then "" else "after \(.succeededBeforeFirstError) ok, at \(.firstErrorMs) ms" end)]
                     | map(tostring | gsub("\t"; " ")) | join("\t")' \
      <<<"${lines[-1]}" 2>/dev/null || true)"
    if [[ -n "$fields" ]]; then
      json="${lines[-1]}"
      IFS=$'\t' read -r errors sent warm_errors first first_at <<<"$fields"
    fi
  fi
  label="$st"; [[ "$st" == pooled ]] && label="pooled/$r"

  # The harness: the run ended by itself, said what it measured, and sent what it was told.
  [[ "$rc" == 0 || "$rc" == 1 ]] || harness+=("exit $rc (124/137: the timeout)")
  [[ "$json" != '{}' ]] || harness+=("no JSON on the last stdout line")
  if [[ -z "$S_DURATION" ]]; then
    [[ "$sent" == "$((S_BURSTS * B_BURST))" ]] || harness+=("sent $sent requests, not $((S_BURSTS * B_BURST))")
  else
    [[ "$sent" =~ ^[0-9]+$ ]] && (( sent > 0 )) || harness+=("sent no requests")
  fi
  [[ "$tw" != "-" ]] || harness+=("no kernel TIME_WAIT count")
  # The warm-up runs on fresh connections before anything is closed or killed: it must pass.
  [[ "$warm_errors" == 0 || "$json" == '{}' ]] || harness+=("$warm_errors of $B_WARMUP warm-up requests failed")

  if [[ ${#harness[@]} -gt 0 ]]; then
    verdict="HARNESS"
    local h; for h in "${harness[@]}"; do FAILURES+=("balancer $id $t $c $label $m: $h"); done
    B_HARNESS_FAILED+=("$f")
  elif [[ "$st" == raw ]]; then
    verdict="raw"
  elif [[ "$tw" != 0 ]]; then
    verdict="FAIL"
  elif [[ "$errors" == 0 ]]; then
    verdict="ok"
  elif $S_KILL && [[ "$m" == POST && "$errors" == 1 ]] && bl_dropped_after_sending "$first"; then
    # HTTP forbids resending a POST the balancer may have passed on (RFC 9110 9.2.2): the
    # client cannot know whether the dead backend acted on it. One worker and one kill: at
    # most one request per row was in flight on the backend when it died, and its error
    # must say the connection ended after the request went out. Reported, not failed.
    verdict="lost"
  elif [[ "$id" =~ ^[abc]$ && "$m" == POST && "$errors" == 1 ]] && bl_dropped_after_sending "$first"; then
    # The race that remains (issue 14): the balancer's idle close crossed the POST on the wire
    # at the edge of its timeout, before the client had seen the peer close once and learned
    # the timeout. A GET is sent again on a fresh connection (RFC 9110 9.2.2); a POST may not
    # be. One per row at most, with an error saying the request went out. Reported, not failed.
    verdict="race"
  else
    verdict="FAIL"
  fi
  if [[ "$verdict" == FAIL ]]; then
    B_ROW_FAILURES+=("$id $t $c $label $m: $errors/$sent failed, client TIME_WAIT $tw${first:+; first error: $first}")
  fi
  local shown="$verdict"
  [[ "$verdict" == FAIL && "$B_ASSERT" == report ]] && shown="FAIL(not enforced)"
  [[ "$verdict" == lost ]] && shown="POST lost, allowed"
  [[ "$verdict" == race ]] && shown="POST crossed the idle close, allowed"
  local tail_text=""
  [[ -n "$first" && "$errors" != 0 ]] && tail_text="; ${first_at:+$first_at: }${first:0:110}"
  printf '[clb-lab %s]   %s %-5s %-9s %-19s %-4s %5s/%-5s failed, client TW %s: %s%s\n' \
    "$B_CHECK_TIME" "$id" "$t" "$c" "$label" "$m" "$errors" "$sent" "$tw" "$shown" "$tail_text"
  local row
  printf -v row '%s\t' "$id" "$t" "$c" "$label" "$m" "$errors" "$sent" "$tw" "$verdict" "$first"
  B_ROWS+=("$row")
}

# The stage's report: scenarios, the table (raw rows beside), and the rows that failed.
bl_report() {
  local cols=("pooled/reset GET" "pooled/reset POST" "pooled/server-close GET" "pooled/server-close POST" "raw GET")
  local id t c col line cell
  {
    echo "# Load-balancer stage: stale pooled connections (issue 14)"
    echo
    echo "Generated by \`scripts/clb-lab.sh --stage balancer --bursts $B_BURSTS\` on $(date -u '+%Y-%m-%d %H:%M UTC');"
    echo "kernel $(uname -r); $HAPROXY_VERSION; $NGINX_VERSION; ${PYTHON_VERSION:-no Python};"
    echo "$(java -version 2>&1 | awk 'NR == 1'); $B_SECONDS s for the stage on $(nproc) cores (load average"
    echo "$B_LOAD_AT_START at its start: other work on the machine slows JVM start-up, not the verdicts)."
    echo "Assertions: $B_ASSERT."
    echo "What it shows and why: [lab.md](lab.md#the-balancer-stage-issue-14)."
    echo
    echo "Each scenario ran in a fresh network namespace with \`net.ipv4.tcp_timestamps=0\`, all its rows"
    echo "at once (one CLI process each, one worker, each row on a port of its own). Each row sent"
    echo "$B_WARMUP warm-up request (not counted), waited until every row was ready, then sent bursts of"
    echo "$B_BURST requests back to back with a seeded random idle gap between bursts, the clients' own"
    echo "retries off (f: for a duration, the backend killed halfway):"
    echo
    echo "\`\`\`"
    echo "java -jar timewait-load.jar load --url URL --client C --strategy pooled|raw [--retirement R] \\"
    echo "  --method GET|POST --retries off --concurrency 1 --burst $B_BURST --idle-gap GAP --seed S \\"
    echo "  --warmup $B_WARMUP --start-signal FILE --requests N|--duration S --json"
    echo "\`\`\`"
    echo
    echo "| scenario | server | idle gaps | transports | load | wall |"
    echo "| --- | --- | --- | --- | --- | ---: |"
    printf '%s\n' "${B_SCEN_LINES[@]}"
    echo
    echo "## Results"
    echo
    echo "Each cell: failed / sent requests, then the client's TIME_WAIT towards the row's port,"
    echo "from the kernel's table (\`ss\` inside the namespace, the moment the row's CLI exited)."
    echo "pooled = timewait's \`PooledKeepAlive\` with its defaults and the named retirement; raw = the"
    echo "same client without timewait, pooled by its own defaults (reported, never asserted)."
    echo "**Bold**: the row broke the expectation (0 failed, 0 TIME_WAIT); *lost*: a POST lost when"
    echo "the backend died, which HTTP does not let a client resend (allowed, reported)."
    echo
    echo "| scenario | transport | client | pooled/reset GET | pooled/reset POST | pooled/server-close GET | pooled/server-close POST | raw GET |"
    echo "| --- | --- | --- |$(printf ' ---: |%.0s' "${cols[@]}")"
    for line in $(printf '%s\n' "${B_ROWS[@]}" | awk -F'\t' '{print $1 "," $2 "," $3}' | awk '!seen[$0]++'); do
      IFS=, read -r id t c <<<"$line"
      local out="| $id | $t | $c |"
      for col in "${cols[@]}"; do
        cell="$(printf '%s\n' "${B_ROWS[@]}" | awk -F'\t' -v id="$id" -v t="$t" -v c="$c" -v col="$col" '
          $1 == id && $2 == t && $3 == c && ($4 " " $5) == col {
            s = $6 "/" $7 ", TW " $8
            if ($9 == "FAIL") s = "**" s "**"; else if ($9 == "lost") s = "*lost* " s; else if ($9 == "race") s = "*race* " s; else if ($9 == "HARNESS") s = "(harness) " s
            print s }')"
        out+=" ${cell:--} |"
      done
      echo "$out"
    done
    echo
    echo "## First errors"
    echo
    echo "| scenario | transport | client | strategy | method | failed/sent | first error |"
    echo "| --- | --- | --- | --- | --- | ---: | --- |"
    printf '%s\n' "${B_ROWS[@]}" | awk -F'\t' '$6 != "0" && $6 != "-" {
      e = $10; gsub(/\|/, "\\|", e); if (length(e) > 160) e = substr(e, 1, 157) "..."
      print "| " $1 " | " $2 " | " $3 " | " $4 " | " $5 " | " $6 "/" $7 " | " e " |" }'
    echo
    if [[ ${#B_SKIPPED[@]} -gt 0 ]]; then
      echo "Skipped: $(printf '%s; ' "${B_SKIPPED[@]}")"
      echo
    fi
    if [[ ${#B_ROW_FAILURES[@]} -eq 0 ]]; then
      echo "Every pooled row held: 0 failed requests (bar POSTs lost to the killed backend) and 0 client TIME_WAIT."
    else
      echo "${#B_ROW_FAILURES[@]} pooled row(s) broke the expectation$([[ "$B_ASSERT" == report ]] && echo " (not enforced: --balancer-assert report)")."
    fi
  } > "$B_REPORT"
  log "balancer report: $B_REPORT"
}

balancer_stage() {
  local id t0
  log "balancer stage: $HAPROXY_VERSION, $NGINX_VERSION, ${PYTHON_VERSION:-no python3}; scenarios $B_SCENARIOS;" \
      "$B_BURSTS bursts of $B_BURST per row; assertions: $B_ASSERT"
  t0=$(date +%s)
  B_LOAD_AT_START="$(awk '{print $1}' /proc/loadavg)"
  bl_cds_archives
  for id in $B_SCENARIOS; do bl_run_scenario "$id"; done
  B_SECONDS=$(( $(date +%s) - t0 ))
  bl_report
  if $COMMIT_REPORT; then
    cp "$B_REPORT" "$ROOT/docs/lab-balancer.md"
    if (cd "$ROOT" && git add docs/lab-balancer.md \
        && git commit -q -m "docs: load-balancer stage report (issue 14)" -- docs/lab-balancer.md); then
      log "committed docs/lab-balancer.md"
    else
      log "warning: could not commit docs/lab-balancer.md (unchanged?)"
    fi
  fi
}

# ---------------------------------------------------------------------------------
# Run the stages; a plain closing line
# ---------------------------------------------------------------------------------
LAB_SECONDS=0
if $RUN_EXHAUSTION; then exhaustion_stage; fi
EXHAUSTION_RUNS=$RUN_INDEX
if $RUN_BALANCER; then balancer_stage; fi
if $RUN_LIMIT; then limit_stage; fi

RUNS_FAILED=$(printf '%s\n' "${FAILED_RUNS[@]}" | sort -u | grep -c . || true)
status=0
if [[ ${#FAILURES[@]} -gt 0 ]]; then
  log "FAILED: ${#FAILURES[@]} expectation(s):"
  printf '  - %s\n' "${FAILURES[@]}"
  for run in $(printf '%s\n' "${FAILED_RUNS[@]}" | sort -u); do
    echo "--- $run: $(cat "$OUT/runs/$run.cmd")"
    echo "--- tail of $OUT/runs/$run.err"; tail -n 15 "$OUT/runs/$run.err" || true
    echo "--- tail of $OUT/runs/$run.out"; tail -n 3 "$OUT/runs/$run.out" || true
  done
  for f in "${B_HARNESS_FAILED[@]:0:3}"; do   # the first three: the cause is usually shared
    echo "--- $(cat "$f.cmd")"
    echo "--- tail of $f.err"; tail -n 10 "$f.err" || true
  done
  status=1
fi
if [[ ${#B_ROW_FAILURES[@]} -gt 0 ]]; then
  if [[ "$B_ASSERT" == enforce ]]; then
    log "FAILED: ${#B_ROW_FAILURES[@]} pooled row(s) of the balancer stage lost requests or left client TIME_WAIT:"
    status=1
  else
    log "NOT ENFORCED (--balancer-assert report): ${#B_ROW_FAILURES[@]} pooled row(s) of the balancer stage broke the expectation:"
  fi
  printf '  - %s\n' "${B_ROW_FAILURES[@]}"
fi
if $RUN_EXHAUSTION; then echo "clb-lab exhaustion: $((EXHAUSTION_RUNS - RUNS_FAILED)) runs passed, $RUNS_FAILED failed ($LAB_SECONDS s)"; fi
if $RUN_BALANCER; then
  echo "clb-lab balancer: ${#B_ROWS[@]} rows in $B_SCEN_INDEX scenarios ($B_SECONDS s); ${#B_ROW_FAILURES[@]} pooled rows failed" \
       "($B_ASSERT), ${#B_HARNESS_FAILED[@]} harness failures"
fi
if $RUN_LIMIT; then
  echo "clb-lab limit: ${#LIMIT_ROWS[@]} runs of $LIMIT_DURATION s ($LIMIT_SECONDS s); report $OUT/limit-run.md, chart $OUT/limit-run.svg"
fi
[[ $status -eq 0 ]] && log "PASSED: every enforced expectation held"
exit "$status"
