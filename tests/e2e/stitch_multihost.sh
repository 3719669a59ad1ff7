#!/usr/bin/env bash
# Multi-host stitching, end to end (root): three network namespaces on a bridge are the
# hosts, each captured with `netviz-trace --netns NAME`, a fourth namespace is a peer
# outside the group. Traffic:
#   ns1 cli1   -> ns2 srv2 :8080        (client in one host, server in another)
#   ns2 mid2   -> ns3 srv3 :9090        (a process there talking to a server in the third)
#   ns1 lo1cli -> ns1 lo1srv 127.0.0.1:7000, ns3 lo3cli -> ns3 lo3srv 127.0.0.1:7000
#                                       (loopback services on the same port in two hosts)
#   ns1 cli1   -> ns4 srv4 :5000        (ns4 is not captured: a peer outside the group)
#   ns1 probe1 -> ns2 :8081             (refused: nothing listens there)
# The stitched graph must have exactly the expected edges, and render with dot. A refused
# connect is no edge (a client that retried while its server started is none either);
# --failed shows it, to the other host's unknown process, never to a listener.
# NETVIZ_STITCH_E2E_MODE=trace (default: --duration) or snapshot (--snapshot while the
# connections are up).
set -euo pipefail
. "$(dirname "$0")/lib/bridged_hosts.sh"

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
mode=${NETVIZ_STITCH_E2E_MODE:-trace}
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
command -v dot >/dev/null || { echo "FAIL: dot (graphviz) not installed" >&2; exit 1; }

p=nvt-g-$$
tmp=$(mktemp -d /tmp/nvt-g-stitch.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bridged_hosts_down "$p" 4
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -5 "$f" >&2; done; exit 1; }

bridged_hosts_up "$p" 10.77.0 4

# One small program for every role; the command name is set so each role is its own node.
cat > "$tmp/peer.py" <<'PY'
import ctypes, socket, sys, threading, time
role, name, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
if role == "refused":
    try:
        socket.create_connection((sys.argv[4], int(sys.argv[5])), timeout=2)
    except ConnectionRefusedError:
        sys.exit(0)
    sys.exit("connect to %s:%s was not refused" % (sys.argv[4], sys.argv[5]))
if role == "server":
    addr, port = sys.argv[4], int(sys.argv[5])
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16); s.settimeout(0.2)
    end = time.time() + secs
    def serve(c):
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
        c.close()
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()
else:
    targets = sys.argv[4:]
    conns = []
    for i in range(0, len(targets), 2):
        for attempt in range(50):
            try:
                c = socket.create_connection((targets[i], int(targets[i + 1])), timeout=2); break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("cannot connect to %s:%s" % (targets[i], targets[i + 1]))
        c.sendall(b"x" * 1000); c.recv(4096); conns.append(c)
    time.sleep(secs)
    for c in conns: c.close()
PY
peers=()
run_in() { local ns=$1; shift; ip netns exec "$p-$ns" python3 "$tmp/peer.py" "$@" & pids+=($!); peers+=($!); }

# Tracers first, so every connection is seen from its start.
if [[ $mode == trace ]]; then
  for n in 1 2 3; do
    "$NETVIZ_TRACE" --netns "$p-ns$n" --duration 120 -o "$tmp/ns$n.json" 2>"$tmp/trace$n.log" &
    tracer[$n]=$!
    pids+=($!)
  done
  for n in 1 2 3; do
    for _ in $(seq 150); do grep -q "tracing" "$tmp/trace$n.log" 2>/dev/null && break; sleep 0.1; done
    grep -q "tracing" "$tmp/trace$n.log" || fail "netviz-trace for ns$n did not start"
  done
fi

run_in ns2 server srv2 7 10.77.0.2 8080
run_in ns3 server srv3 7 10.77.0.3 9090
run_in ns1 server lo1srv 7 127.0.0.1 7000
run_in ns3 server lo3srv 7 127.0.0.1 7000
run_in ns4 server srv4 7 10.77.0.4 5000
sleep 0.5
run_in ns1 client cli1 3 10.77.0.2 8080 10.77.0.4 5000
run_in ns2 client mid2 3 10.77.0.3 9090
run_in ns1 client lo1cli 3 127.0.0.1 7000
run_in ns3 client lo3cli 3 127.0.0.1 7000
ip netns exec "$p-ns1" python3 "$tmp/peer.py" refused probe1 0 10.77.0.2 8081 ||
  fail "the refused connect to ns2:8081 was not refused"

if [[ $mode == snapshot ]]; then
  sleep 1.5  # connections are up and held
  for n in 1 2 3; do
    "$NETVIZ_TRACE" --snapshot --netns "$p-ns$n" -o "$tmp/ns$n.json" 2>"$tmp/snap$n.log" ||
      fail "snapshot of ns$n failed"
  done
else
  # Every peer has ended (and closed) before the tracers stop, however slow they started.
  for pid in "${peers[@]}"; do wait "$pid" || true; done
  for n in 1 2 3; do kill -INT "${tracer[$n]}"; done
  for n in 1 2 3; do wait "${tracer[$n]}" || fail "netviz-trace for ns$n failed"; done
fi
for n in 1 2 3; do [[ -s $tmp/ns$n.json ]] || fail "no capture for ns$n"; done

"$NETVIZ_STITCH" --format json -o "$tmp/graph.json" "$tmp"/ns{1,2,3}.json 2>"$tmp/stitch.log" ||
  fail "netviz-stitch failed"
"$NETVIZ_STITCH" --format json --external -o "$tmp/graph-ext.json" "$tmp"/ns{1,2,3}.json ||
  fail "netviz-stitch --external failed"
"$NETVIZ_STITCH" --format json --failed -o "$tmp/graph-failed.json" "$tmp"/ns{1,2,3}.json ||
  fail "netviz-stitch --failed failed"
"$NETVIZ_STITCH" -o "$tmp/graph.dot" "$tmp"/ns{1,2,3}.json || fail "netviz-stitch (dot) failed"
dot -Tsvg "$tmp/graph.dot" -o "$tmp/graph.svg" 2>"$tmp/dot.log" || fail "dot -Tsvg failed"
[[ ! -s $tmp/dot.log ]] || fail "dot complained: $(cat "$tmp/dot.log")"
grep -q "<svg" "$tmp/graph.svg" || fail "no svg"

python3 - "$tmp" "$p" "$mode" <<'PY'
import json, sys
tmp, p, mode = sys.argv[1], sys.argv[2], sys.argv[3]
host = json.load(open(tmp + "/ns1.json"))["host"]["name"]
h = lambda n: "%s/%s-ns%d" % (host, p, n)
def edges(path):
    g = json.load(open(path))
    return g, sorted("%s -> %s %s/%d %s" % (e["from"], e["to"], e["proto"], e["port"], e["joined"])
                     for e in g["edges"])
want = sorted([
    "p:%s|cli1 -> p:%s|srv2 tcp/8080 both" % (h(1), h(2)),
    "p:%s|mid2 -> p:%s|srv3 tcp/9090 both" % (h(2), h(3)),
    "p:%s|lo1cli -> p:%s|lo1srv tcp/7000 both" % (h(1), h(1)),
    "p:%s|lo3cli -> p:%s|lo3srv tcp/7000 both" % (h(3), h(3)),
])
g, got = edges(tmp + "/graph.json")
ok = True
if got != want:
    print("FAIL: edges differ\n got: %s\nwant: %s" % ("\n      ".join(got), "\n      ".join(want)))
    ok = False
if sorted(g["hosts"]) != sorted([h(1), h(2), h(3)]):
    print("FAIL: hosts", g["hosts"]); ok = False
if g["stats"]["external_hidden"] < 1:
    print("FAIL: the flow to the untraced ns4 was not counted as outside the group"); ok = False
_, got_ext = edges(tmp + "/graph-ext.json")
ext = "p:%s|cli1 -> x:10.77.0.4 tcp/5000 external" % h(1)
if sorted(want + [ext]) != got_ext:
    print("FAIL: with --external\n got: %s" % "\n      ".join(got_ext)); ok = False
# A scan never sees a refused connect; a trace must, and keep it out of the graph.
g_failed, got_failed = edges(tmp + "/graph-failed.json")
probe = "p:%s|probe1 -> u:%s tcp/8081 failed" % (h(1), h(2))
if mode == "trace":
    if g["stats"]["failed"] < 1 or g["stats"]["failed_hidden"] != g["stats"]["failed"]:
        print("FAIL: the refused connect was not counted as failed and left out:", g["stats"]); ok = False
    if probe not in got_failed:
        print("FAIL: with --failed, no %s\n got: %s" % (probe, "\n      ".join(got_failed))); ok = False
# Anything else --failed adds is a failed connect (a client's retry), never a listener's.
extra = sorted(set(got_failed) - set(want))
if any(not e.endswith(" failed") or " -> u:" not in e for e in extra):
    print("FAIL: with --failed\n got: %s" % "\n      ".join(got_failed)); ok = False
if not ok:
    sys.exit(1)
print("ok: %d edges as expected" % len(want))
PY
echo "PASS stitch_multihost ($mode mode)"
