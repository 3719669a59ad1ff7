#!/usr/bin/env bash
# netviz-stitch --serve draws through its render worker, a process forked before any thread:
# rounds of five different pictures asked at once, with /graph.json requests alongside, are
# all drawn within --render-timeout (a child forked from the threaded server itself could
# hang under the sanitizers' allocator); the worker is the server's one child and leaves
# with it; a killed worker makes pictures answer 500, said once on stderr, while the rest
# of the page keeps answering.
set -euo pipefail

: "${NETVIZ_STITCH:?path to netviz-stitch}"
: "${NETVIZ_SOURCE_DIR:?path to the source tree}"
command -v curl >/dev/null || { echo "FAIL: curl not installed (scripts/setup.sh)" >&2; exit 1; }
fixtures=$NETVIZ_SOURCE_DIR/tests/fixtures/stitch

source "$(dirname "$0")/lib/serve_helpers.sh"
tmp=$(mktemp -d /tmp/nvt-serve-render.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$tmp"/*.log >&2 || true; exit 1; }
gone() {  # pid: no such process, or a zombie nobody reaped yet
  [[ ! -e /proc/$1/stat ]] || [[ $(sed 's/.*) //' "/proc/$1/stat" | cut -c1) == Z ]]
}
children() { ps -o pid=,comm= --ppid "$1" || true; }

start_server() {  # LOG: the page on a free port; sets port and server
  port=$(free_port)
  "$NETVIZ_STITCH" --serve "127.0.0.1:$port" --render-timeout 3 "$fixtures/web1.json" \
    "$fixtures/db1.json" 2>"$tmp/$1" &
  server=$!
  pids+=($server)
  wait_up "$port" 300 || fail "the server logging to $1 did not answer"
}

start_server serve.log

# Every query differs, so no picture comes from the cache.
round=0
for filter in "" "&proto=tcp" "&host=web1" "&host=db1"; do
  round=$((round + 1))
  asks=()
  for view in process pid endpoint host service; do
    curl -s -o /dev/null -m 30 -w "svg view=$view$filter %{http_code} %{time_total}\n" \
      "http://127.0.0.1:$port/graph.svg?view=$view$filter" >"$tmp/r$round-$view.out" &
    asks+=($!)
    curl -s -o /dev/null -m 30 -w "json %{http_code}\n" \
      "http://127.0.0.1:$port/graph.json?view=$view" >"$tmp/j$round-$view.out" &
    asks+=($!)
  done
  wait "${asks[@]}" || true
done
cat "$tmp"/r*.out
drawn=$(cat "$tmp"/r*.out | awk '$3 == 200' | wc -l)
[[ $drawn == 20 ]] || fail "$drawn of 20 pictures drawn: $(grep -hv ' 200 ' "$tmp"/r*.out)"
[[ $(cat "$tmp"/j*.out | grep -c '^json 200$') == 20 ]] || fail "graph.json: $(cat "$tmp"/j*.out)"
kids=$(children "$server")
[[ $(wc -l <<<"$kids") == 1 && $kids == *netviz-render* ]] || fail "server children: $kids"
worker=$(awk '{print $1}' <<<"$kids")
echo "ok   20 pictures asked five at a time: all drawn by worker $worker"

# The worker leaves with the server.
kill -TERM "$server"
wait "$server" || fail "the server did not end with status 0 on SIGTERM"
for _ in $(seq 50); do gone "$worker" && break; sleep 0.1; done
gone "$worker" || fail "worker $worker outlived the server"
echo "ok   the worker left with the server"

# A killed worker: pictures are an error said once, the rest of the page answers.
start_server serve2.log
port2=$port
server2=$server
worker2=$(children "$server2" | awk '/netviz-render/ {print $1}')
[[ -n $worker2 ]] || fail "no worker under the second server"
kill -9 "$worker2"
for q in "view=host" "view=process" "view=pid"; do
  code=$(curl -s -o "$tmp/body" -m 10 -w '%{http_code}' "http://127.0.0.1:$port2/graph.svg?$q")
  [[ $code == 500 ]] || fail "picture without a worker: $code"
  grep -q 'render worker .* killed by signal 9' "$tmp/body" || fail "500 body: $(cat "$tmp/body")"
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/graph.json") == 200 ]] ||
  fail "graph.json after the worker died"
[[ $(grep -c 'render worker' "$tmp/serve2.log") == 1 ]] || fail "stderr: $(cat "$tmp/serve2.log")"
grep 'render worker' "$tmp/serve2.log"
kill -TERM "$server2"
wait "$server2" || fail "the second server did not end with status 0"
echo "PASS: render worker checks"
