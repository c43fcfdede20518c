#!/usr/bin/env bash
# clb-lab.sh: the load-balancer lab (issue 6).
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
#   naive      x hc5, hc5-async, okhttp: --requests 1500 FAILS: errors > 0, the first
#              error is "Cannot assign requested address", and ~1000 client TIME_WAIT
#              sit in the kernel's table (the whole port range), tcp_tw_reuse notwithstanding.
#   server-close, reset, pooled x hc5, hc5-async, okhttp: --requests 20000 at
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
# Skips (prints why, exits 0) when not root or when `ip netns` does not work; CI decides.
# Cleans up namespaces, nginx, temp files on any exit (trap EXIT INT TERM).
# Every wait is bounded; every CLI run is under `timeout`.
#
# Usage: scripts/clb-lab.sh [options]   (see --help)

set -euo pipefail

# ---------------------------------------------------------------------------------
# Settings (each can be changed by an option; the defaults are what CI runs)
# ---------------------------------------------------------------------------------
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/examples/target/timewait-load.jar"
JAR_GIVEN=false
OUT="$ROOT/lab-out"
CLIENTS="hc5 hc5-async okhttp"
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

usage() {
  cat <<EOF
Usage: $0 [options]

The load-balancer lab: port exhaustion with a naive client, and every timewait
strategy surviving it, each run in a fresh network namespace against nginx.

Options:
  --jar PATH            load CLI jar (default: examples/target/timewait-load.jar,
                        built with ./mvnw if missing)
  --clients "A B"       clients to run (default: "$CLIENTS")
  --strategies "A B"    strategies to run besides naive (default: "$STRATEGIES")
  --requests N          requests per strategy run (default: $REQUESTS)
  --naive-requests N    requests per naive run (default: $NAIVE_REQUESTS)
  --concurrency N       (default: $CONCURRENCY)
  --out DIR             report and run logs (default: lab-out)
  --no-install          do not apt-get install nginx/jq when missing
  --commit-report       copy the report to docs/clb-lab-report.md and commit that file
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
    --strategies) need_value "$@"; STRATEGIES="$2"; shift 2 ;;
    --requests) need_value "$@"; need_int "$1" "$2"; REQUESTS="$2"; shift 2 ;;
    --naive-requests) need_value "$@"; need_int "$1" "$2"; NAIVE_REQUESTS="$2"; shift 2 ;;
    --concurrency) need_value "$@"; need_int "$1" "$2"; CONCURRENCY="$2"; shift 2 ;;
    --out) need_value "$@"; OUT="$2"; shift 2 ;;
    --no-install) INSTALL=false; shift ;;
    --commit-report) COMMIT_REPORT=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

PORT_BUDGET=$((PORT_HI - PORT_LO + 1))
log() { printf '[clb-lab %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
skip() { log "SKIPPED: $*"; exit 0; }
fatal() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------
# Preconditions: root and working network namespaces, else skip (exit 0)
# ---------------------------------------------------------------------------------
[[ "$(uname -s)" == Linux ]] || skip "not Linux ($(uname -s)): network namespaces are Linux-only"
[[ "$(id -u)" -eq 0 ]] || skip "not root (uid $(id -u)): creating network namespaces and setting their sysctls needs root"
command -v ip >/dev/null 2>&1 || skip "the ip command (iproute2) is missing"

# State for cleanup. NS is the namespace of the run in progress, if any.
NS=""
TMP=""
POLICY_RC_CREATED=false
NS_PREFIX="timewait-lab-$$"

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
  trap - EXIT INT TERM
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
rm -rf -- "$OUT/runs" "$OUT/clb-lab-report.md"   # this invocation's logs only
mkdir -p "$OUT/runs"

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
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "$@" \
    >"$TMP/apt.log" 2>&1 || { tail -n 30 "$TMP/apt.log"; fatal "apt-get install $* failed"; }
  if $POLICY_RC_CREATED; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=false; fi
}

APT_UPDATED=false
apt_update() {
  $APT_UPDATED && return 0
  timeout 600 apt-get update -qq || fatal "apt-get update failed"
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
command -v java >/dev/null 2>&1 || fatal "java is missing (the load CLI needs a JDK 17+ on PATH)"
if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
NGINX="$(find_nginx)"
[[ -n "$NGINX" ]] || fatal "nginx is still missing after the install"
NGINX_VERSION="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"

if [[ ! -f "$JAR" ]]; then
  $JAR_GIVEN && fatal "the jar given with --jar does not exist: $JAR"
  log "building the load CLI: ./mvnw -q -B -pl examples -am package -DskipTests"
  (cd "$ROOT" && timeout 1200 ./mvnw -q -B -pl examples -am package -DskipTests) \
    || fatal "building the load CLI failed"
  [[ -f "$JAR" ]] || fatal "the build did not produce $JAR: the examples module must build the load CLI as an executable jar with that name"
fi

# ---------------------------------------------------------------------------------
# One namespace + nginx per run
# ---------------------------------------------------------------------------------
ns_sysctl() { ip netns exec "$1" sysctl -n "$2" | tr -s ' \t' ' '; }

# Create namespace $1: loopback up and the three sysctls, each read back to verify.
ns_create() {
  local ns="$1"
  NS="$ns"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_timestamps=0
  ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_tw_reuse=1
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="$PORT_LO $PORT_HI"
  [[ "$(ns_sysctl "$ns" net.ipv4.tcp_timestamps)" == 0 ]] || fatal "$ns: tcp_timestamps did not read back as 0"
  [[ "$(ns_sysctl "$ns" net.ipv4.tcp_tw_reuse)" == 1 ]] || fatal "$ns: tcp_tw_reuse did not read back as 1"
  [[ "$(ns_sysctl "$ns" net.ipv4.ip_local_port_range)" == "$PORT_LO $PORT_HI" ]] \
    || fatal "$ns: ip_local_port_range did not read back as '$PORT_LO $PORT_HI'"
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
  kclient="$(tw_client "$ns")"
  kserver="$(tw_server "$ns")"
  recycled="$(tcpext "$ns" TWRecycled)"
  overflow="$(tcpext "$ns" TCPTimeWaitOverflow)"
  nginx_stop
  ns_destroy "$ns"
  NS=""

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
# The runs
# ---------------------------------------------------------------------------------
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

# A plain closing line: runs passed (every expectation held) and runs failed.
RUNS_FAILED=$(printf '%s\n' "${FAILED_RUNS[@]}" | sort -u | grep -c . || true)
if [[ ${#FAILURES[@]} -gt 0 ]]; then
  log "FAILED: ${#FAILURES[@]} expectation(s):"
  printf '  - %s\n' "${FAILURES[@]}"
  for run in $(printf '%s\n' "${FAILED_RUNS[@]}" | sort -u); do
    echo "--- $run: $(cat "$OUT/runs/$run.cmd")"
    echo "--- tail of $OUT/runs/$run.err"; tail -n 15 "$OUT/runs/$run.err" || true
    echo "--- tail of $OUT/runs/$run.out"; tail -n 3 "$OUT/runs/$run.out" || true
  done
  echo "clb-lab: $((RUN_INDEX - RUNS_FAILED)) passed, $RUNS_FAILED failed"
  exit 1
fi
log "PASSED: all expectations held in $LAB_SECONDS s"
echo "clb-lab: $RUN_INDEX passed, 0 failed"
