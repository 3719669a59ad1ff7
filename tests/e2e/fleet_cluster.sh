#!/usr/bin/env bash
# A three-node JetStream cluster (three nats-server processes with routes, on loopback, each
# with its storage in a temp dir), the stream with 3 replicas (`--replicas 3`): two
# network-namespace hosts publish to all three URLs; one node is killed with -9 during the
# traffic. Nothing may be lost: every host's lines reach the stream once, and the graph
# read from the two surviving nodes equals the file-based stitch of the hosts' stdout.
set -euo pipefail

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
command -v nats-server >/dev/null || { echo "FAIL: nats-server not installed" >&2; exit 1; }

p=nvt-c-$$
tmp=$(mktemp -d /tmp/nvt-fleet-cluster.XXXXXX)
pids=()
nodes=()
cleanup() {
  for pid in "${pids[@]}" "${nodes[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in 1 2; do ip netns del "$p-ns$n" 2>/dev/null || true; done
  [[ -n ${NETVIZ_KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -8 "$f" >&2; done; exit 1; }

ports=($(python3 -c '
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'))
client=("${ports[@]:0:3}")
route=("${ports[@]:3:3}")
urls=nats://127.0.0.1:${client[0]},nats://127.0.0.1:${client[1]},nats://127.0.0.1:${client[2]}
for i in 0 1 2; do
  routes=
  for j in 0 1 2; do [[ $j != "$i" ]] && routes+=${routes:+,}nats://127.0.0.1:${route[$j]}; done
  nats-server -js -sd "$tmp/n$i" -a 127.0.0.1 -p "${client[$i]}" -n "nvt-n$i" \
    --cluster_name nvt --cluster "nats://127.0.0.1:${route[$i]}" --routes "$routes" \
    >"$tmp/nats$i.log" 2>&1 &
  nodes[$i]=$!
done
for i in 0 1 2; do
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', ${client[$i]}), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
done

for n in 1 2; do
  ip netns add "$p-ns$n"
  ip -n "$p-ns$n" link set lo up
done
cat > "$tmp/peer.py" <<'PY'
import ctypes, socket, sys, threading, time
name, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64)
def serve():
    while True:
        c, _ = s.accept(); c.recv(100); c.close()
threading.Thread(target=serve, daemon=True).start()
ctypes.CDLL(None).prctl(15, (name + "c").encode(), 0, 0, 0)
end = time.time() + secs
while time.time() < end:
    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"x"); c.close()
    time.sleep(0.02)
PY

for n in 1 2; do
  "$NETVIZ_TRACE" --netns "$p-ns$n" --duration 16 --format json --publish "$urls" --replicas 3 \
    >"$tmp/stream$n.jsonl" 2>"$tmp/trace$n.log" &
  tracer[$n]=$!
  pids+=($!)
done
for n in 1 2; do
  for _ in $(seq 150); do grep -q "tracing" "$tmp/trace$n.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "tracing" "$tmp/trace$n.log" || fail "netviz-trace for ns$n did not start"
done
for n in 1 2; do
  ip netns exec "$p-ns$n" python3 "$tmp/peer.py" "srv$n" 7000 11 & pids+=($!)
done
sleep 5
kill -9 "${nodes[0]}"; wait "${nodes[0]}" 2>/dev/null || true
echo "killed node 0 of the cluster with -9 during the traffic" >&2
for n in 1 2; do wait "${tracer[$n]}" || fail "netviz-trace for ns$n failed"; done
for n in 1 2; do
  grep -q "not yet stored" "$tmp/trace$n.log" && fail "netviz-trace ns$n left events unsent"
done

"$NETVIZ_STITCH" --format json -o "$tmp/files.json" "$tmp"/stream{1,2}.jsonl || fail "file stitch failed"
"$NETVIZ_STITCH" --subscribe "nats://127.0.0.1:${client[1]},nats://127.0.0.1:${client[2]}" \
  --format json -v -o "$tmp/nats.json" 2>"$tmp/stitch.log" || fail "netviz-stitch --subscribe failed"

python3 - "$tmp" <<'PY'
import glob, json, re, sys
tmp = sys.argv[1]
edges = lambda path: sorted("%s -> %s %s/%d %s" % (e["from"], e["to"], e["proto"], e["port"], e["joined"])
                            for e in json.load(open(path))["edges"])
files, nats = edges(tmp + "/files.json"), edges(tmp + "/nats.json")
counts = sorted(int(m.group(1)) for l in open(tmp + "/stitch.log")
                for m in [re.match(r"netviz-stitch: netviz\.\S+\.events: (\d+) lines from", l)] if m)
local = sorted(sum(1 for l in open(f) if l.strip()) for f in glob.glob(tmp + "/stream*.jsonl"))
ok = True
if len(files) < 2 or nats != files:
    print("FAIL: graphs\n nats: %s\nfiles: %s" % (nats, files)); ok = False
if counts != local:
    print("FAIL: lines per host in NATS %s, on stdout %s" % (counts, local)); ok = False
if not ok: sys.exit(1)
print("ok: %d edges, lines per host %s equal on stdout and in the cluster" % (len(files), local))
PY
echo "PASS fleet_cluster"
