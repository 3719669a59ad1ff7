#!/usr/bin/env bash
# The server configuration docs/fleet.md recommends, on a real nats-server (root: the
# tracer loads BPF for its snapshot): a host user may publish only its own subject, the
# stitcher may only read (with a durable consumer, resumed), the admin creates the stream.
set -euo pipefail

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
command -v nats-server >/dev/null || { echo "FAIL: nats-server not installed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/nvt-fleet-perm.XXXXXX)
ns=nvt-fp-$$
nats_pid=
cleanup() {
  [[ -n $nats_pid ]] && kill -9 "$nats_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -5 "$f" >&2; done; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mid=$(cat /etc/machine-id)
cat >"$tmp/nats.conf" <<CONF
listen: 127.0.0.1:$port
jetstream { store_dir: "$tmp/js" }
accounts {
  NETVIZ {
    jetstream: enabled
    users: [
      { user: web1, password: "w1-secret",
        permissions: { publish: ["netviz.$mid.>", "\$JS.API.STREAM.INFO.NETVIZ"], subscribe: ["_INBOX.>"] } }
      { user: stitcher, password: "st-secret",
        permissions: {
          publish: ["\$JS.API.CONSUMER.CREATE.NETVIZ", "\$JS.API.CONSUMER.CREATE.NETVIZ.>",
                    "\$JS.API.CONSUMER.DURABLE.CREATE.NETVIZ.>", "\$JS.API.CONSUMER.INFO.NETVIZ.>",
                    "\$JS.API.CONSUMER.MSG.NEXT.NETVIZ.>", "\$JS.API.CONSUMER.DELETE.NETVIZ.>",
                    "\$JS.API.STREAM.INFO.NETVIZ", "\$JS.ACK.NETVIZ.>", "\$JS.FC.NETVIZ.>"]
          subscribe: ["_INBOX.>"] } }
      { user: admin, password: "ad-secret" }
    ]
  }
}
CONF
nats-server -c "$tmp/nats.conf" >"$tmp/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
u() { echo "nats://$1@127.0.0.1:$port"; }

"$NETVIZ_TRACE" --snapshot --publish "$(u admin:ad-secret)" -o "$tmp/s0.json" 2>"$tmp/admin.log" ||
  fail "admin could not create the stream"
"$NETVIZ_TRACE" --snapshot --publish "$(u web1:w1-secret)" -o "$tmp/s1.json" 2>"$tmp/web1.log" ||
  fail "web1 could not publish its own subject"
"$NETVIZ_STITCH" --subscribe "$(u stitcher:st-secret)" --durable graph -v --format json \
  -o "$tmp/g1.json" 2>"$tmp/stitch1.log" || fail "the read-only stitcher could not read"
grep -q "netviz.$mid.events: [0-9]* lines from 2 tracer run(s)" "$tmp/stitch1.log" ||
  fail "the stitcher did not see both snapshots"
"$NETVIZ_STITCH" --subscribe "$(u stitcher:st-secret)" --durable graph -v --format json \
  -o "$tmp/g2.json" 2>"$tmp/stitch2.log" || fail "the stitcher could not resume its durable"
grep -q "resumed durable graph" "$tmp/stitch2.log" || fail "the durable was not resumed"
cmp -s "$tmp/g1.json" "$tmp/g2.json" || fail "the resumed graph differs"

# web1 tracing a namespace publishes to another host's subject: the server refuses, the
# snapshot is not stored, and the tracer says so (exit 1), never printing the password.
ip netns add "$ns"
set +e
"$NETVIZ_TRACE" --snapshot --netns "$ns" --publish "$(u web1:w1-secret)" -o "$tmp/s2.json" 2>"$tmp/web1-other.log"
rc=$?
set -e
[[ $rc == 1 ]] || fail "publishing outside its subject: exit $rc"
grep -q "not yet stored" "$tmp/web1-other.log" || fail "the refused publish was not said"
for f in "$tmp"/*.log; do [[ $f == "$tmp/nats.log" ]] && continue; grep -q "secret" "$f" && fail "a password in $f"; done
echo "PASS fleet_permissions"
