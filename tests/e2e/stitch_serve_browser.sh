#!/usr/bin/env bash
# netviz-stitch --serve in a real browser (headless chromium through chromium-driver): the
# page loads with no network, a new flow on the stream is an edge within 2 s, a URL filter
# hides the other hosts, a click shows the flows, a hostile command name stays text, and a
# graph too large to draw offers the host view. /metrics passes `promtool check metrics`.
# Screenshots go to $NETVIZ_ARTEFACTS (default: test-artefacts next to netviz-stitch).
set -euo pipefail

: "${NETVIZ_STITCH:?path to netviz-stitch}"
here=$(cd "$(dirname "$0")" && pwd)
artefacts=${NETVIZ_ARTEFACTS:-$(dirname "$NETVIZ_STITCH")/test-artefacts}
mkdir -p "$artefacts"
for t in /usr/bin/chromium /usr/bin/chromedriver /usr/bin/promtool curl; do
  command -v "$t" >/dev/null || { echo "FAIL: $t not installed (scripts/setup.sh)" >&2; exit 1; }
done

source "$(dirname "$0")/lib/serve_helpers.sh"
tmp=$(mktemp -d /tmp/nvt-serve.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$tmp"/*.log >&2 || true; exit 1; }


# beta and gamma are capture documents; alpha is the stream the browser script writes.
cat >"$tmp/beta.json" <<'JSON'
{"netviz": 1, "host": {"name": "beta", "netns": [{"inode": 1, "addresses": ["10.77.0.2"]}]}, "flows": [
 {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.77.0.2", "port": 5432}, "remote": {"addr": "10.77.0.1", "port": 40000}, "direction": "inbound", "pid": 20, "comm": "postgres", "netns": 1, "first_seen": "2026-12-01T10:00:01Z", "last_seen": "2026-12-01T10:00:02Z", "bytes_sent": 200, "bytes_received": 100},
 {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.77.0.2", "port": 41000}, "remote": {"addr": "10.77.0.1", "port": 80}, "direction": "outbound", "pid": 21, "comm": "<img src=x onerror=alert(1)>", "netns": 1, "first_seen": "2026-12-01T10:00:01Z", "last_seen": "2026-12-01T10:00:02Z", "bytes_sent": 5, "bytes_received": 7}
]}
JSON
cat >"$tmp/gamma.json" <<'JSON'
{"netviz": 1, "host": {"name": "gamma", "netns": [{"inode": 1, "addresses": ["127.0.0.1", "10.77.0.9"]}]}, "flows": [
 {"proto": "tcp", "family": "ipv4", "local": {"addr": "127.0.0.1", "port": 50000}, "remote": {"addr": "127.0.0.1", "port": 6379}, "direction": "outbound", "pid": 30, "comm": "cache-client", "netns": 1},
 {"proto": "tcp", "family": "ipv4", "local": {"addr": "127.0.0.1", "port": 6379}, "remote": {"addr": "127.0.0.1", "port": 50000}, "direction": "inbound", "pid": 31, "comm": "redis-server", "netns": 1}
]}
JSON

port=$(free_port)
mkfifo "$tmp/alpha"
"$NETVIZ_STITCH" --serve "127.0.0.1:$port" - "$tmp/beta.json" "$tmp/gamma.json" <"$tmp/alpha" \
  2>"$tmp/serve.log" &
pids+=($!)
/usr/bin/python3 "$here/lib/serve_browser.py" "http://127.0.0.1:$port/" "$tmp/alpha" "$artefacts" \
  >"$tmp/browser.log" 2>&1 &
browser=$!
wait_up "$port" || fail "the server did not answer"

# A second server on the same port: one line, exit 2.
set +e
timeout 10 "$NETVIZ_STITCH" --serve "127.0.0.1:$port" "$tmp/beta.json" 2>"$tmp/second.err"
rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$tmp/second.err") == 1 ]] || fail "port in use: rc=$rc $(cat "$tmp/second.err")"
# Read-only, and unknown names are refused with one line.
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/graph.json") == 405 ]] || fail "POST accepted"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/graph.svg?view=nope") == 400 ]] || fail "bad view accepted"
# An event stream dropped mid-way leaves the server answering.
for _ in 1 2 3; do timeout 1 curl -sN "http://127.0.0.1:$port/events" >/dev/null || true; done
curl -sf -m 5 "http://127.0.0.1:$port/graph.dot" | grep -q 'digraph' || fail "no answer after dropped event streams"
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt" || fail "no /metrics"
promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.log" 2>&1 || fail "promtool: $(cat "$tmp/promtool.log")"
grep -q '^netviz_edge_flows_total{.*src_comm="api".*} 1$' "$tmp/metrics.txt" || fail "no api edge counter"
cp "$tmp/metrics.txt" "$artefacts/metrics.txt"

wait "$browser" || { cat "$tmp/browser.log" >&2; fail "browser checks"; }
cat "$tmp/browser.log"

# Too large to draw: the page says so and offers the host view, which is drawn.
port2=$(free_port)
"$NETVIZ_STITCH" --serve "$port2" --serve-max-nodes 1 "$tmp/gamma.json" 2>"$tmp/serve2.log" &
pids+=($!)
wait_up "$port2" || fail "the second server did not answer"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/graph.svg") == 413 ]] || fail "large graph drawn"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/graph.svg?view=host") == 200 ]] || fail "host view not drawn"
/usr/bin/python3 - "http://127.0.0.1:$port2/" "$artefacts" <<'PY' || fail "too-large page"
import sys, tempfile, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
o = webdriver.ChromeOptions(); o.binary_location = "/usr/bin/chromium"
for f in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--user-data-dir=" + tempfile.mkdtemp(prefix="nv-chromium-")]:
    o.add_argument(f)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    d.get(sys.argv[1])
    # Generous waits: under load the first page load alone can take seconds.
    for _ in range(300):
        if d.find_elements(By.ID, "host-view"): break
        time.sleep(0.1)
    notice = d.find_element(By.ID, "notice").text
    print("notice:", notice)
    assert "too large" in notice, notice
    d.find_element(By.ID, "host-view").click()
    for _ in range(300):
        if d.execute_script("return document.querySelectorAll('#canvas g.node').length"): break
        time.sleep(0.1)
    assert "view=host" in d.current_url, d.current_url
    assert d.execute_script("return document.querySelectorAll('#canvas g.node').length") > 0
    d.save_screenshot(sys.argv[2] + "/serve-too-large-host-view.png")
    print("ok   too large: the page offers the host view, which draws")
finally:
    d.quit()
PY
echo "PASS: live page checks; screenshots in $artefacts"
