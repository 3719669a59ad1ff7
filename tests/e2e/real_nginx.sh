#!/usr/bin/env bash
# nginx (Debian's nginx-light), end to end (root): a master and 2 workers on a private port,
# traced from before they start. curl fetches N URLs with "Connection: close", so each request
# is a new TCP connection (curl's own %{num_connects} counts them). The access log records for
# every request the worker pid that served it ($pid), its connection serial ($connection) and
# the client port ($remote_port). Checks:
#   - netviz's server-side flows on the port == access log lines == distinct $connection ==
#     curl's connects; client-side flows the same, each paired with a server-side one;
#   - each server-side flow is owned by the worker the access log names for its client port
#     (comm nginx, attribution accept, inbound), never the master;
#   - each client-side flow is curl's (its pid, comm curl, outbound, connect);
#   - stats: 0 lost; stitching gives one edge curl -> nginx joined on both ends, no one-sided
#     edge.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init nginx
rs_need nginx curl
requests=60

port=$(rs_port)
mkdir -p "$tmp/www" "$tmp/temp"
echo "hello from netviz e2e" >"$tmp/www/index.html"
chmod -R a+rX "$tmp"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 256; }
http {
  log_format nv '\$pid \$connection \$remote_port \$status \$bytes_sent';
  access_log $tmp/access.log nv;
  client_body_temp_path $tmp/temp/body;
  proxy_temp_path $tmp/temp/proxy;
  fastcgi_temp_path $tmp/temp/fastcgi;
  uwsgi_temp_path $tmp/temp/uwsgi;
  scgi_temp_path $tmp/temp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $tmp/www;
  }
}
EOF

rs_trace_start "$tmp/capture.json"
rs_bg nginx nginx -e "$tmp/error.log" -c "$tmp/nginx.conf" -p "$tmp" -g 'daemon off;'
master=$rs_last_pid
rs_wait_tcp "$port" || rs_fail "nginx does not listen on $port"
for _ in $(seq 100); do [[ $(pgrep -c -P "$master") == 2 ]] && break; sleep 0.1; done
workers=$(pgrep -P "$master" | sort -n | tr '\n' ' ')
[[ $(wc -w <<<"$workers") == 2 ]] || rs_fail "nginx has workers '$workers', want 2"

curl -sS -H 'Connection: close' -o /dev/null -w '%{http_code} %{num_connects} %{local_port}\n' \
  "http://127.0.0.1:$port/index.html?[1-$requests]" >"$tmp/curl.txt" 2>"$tmp/curl.log" &
curl_pid=$!
wait "$curl_pid" || rs_fail "curl failed"
rs_eq "curl: requests answered 200" "$requests" "$(grep -c '^200 ' "$tmp/curl.txt")"
connects=$(awk '{n += $2} END {print n}' "$tmp/curl.txt")
rs_eq "curl: new connections (num_connects)" "$requests" "$connects"
sleep 0.3  # the last closes reach the tracer
rs_trace_stop
c=$tmp/capture.json

# The server's record: client port -> worker pid.
awk '{print $3, $1}' "$tmp/access.log" | sort -n >"$tmp/log-ports.txt"
rs_eq "access log lines" "$connects" "$(wc -l <"$tmp/access.log")"
rs_eq "distinct \$connection in the access log" "$connects" \
  "$(awk '{print $1, $2}' "$tmp/access.log" | sort -u | wc -l)"
for pid in $(cut -d' ' -f2 "$tmp/log-ports.txt" | sort -u); do
  [[ " $workers" == *" $pid "* ]] || rs_fail "the access log names pid $pid, not a worker ($workers)"
done

rs_split_tcp "$c" "$port" "$connects"

rs_expect_owners "$tmp/log-ports.txt" "the access log"
echo "ok: every server-side flow is owned by the worker the access log names ($connects)"
bad=$(jq -c --argjson m "$master" 'select(.comm != "nginx" or .pid == $m or .direction != "inbound"
    or .family != "ipv4" or .attribution != "accept" or .state != "CLOSED")' "$tmp/server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side flows not accepted by a worker: $bad"
echo "ok: server side: workers ($workers), comm nginx, inbound, accept, closed; never the master $master"

bad=$(jq -c --argjson p "$curl_pid" 'select(.pid != $p or .comm != "curl" or .direction != "outbound"
    or .family != "ipv4" or .attribution != "connect" or .state != "CLOSED")' "$tmp/client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side flows not curl's ($curl_pid): $bad"
awk '{print $3}' "$tmp/curl.txt" | sort -n >"$tmp/curl-ports.txt"
jq -r '.local.port' "$tmp/client.jsonl" | sort -n | diff "$tmp/curl-ports.txt" - >/dev/null ||
  rs_fail "client-side flows' ports differ from curl's %{local_port}"
echo "ok: client side: curl $curl_pid, outbound, connect, the ports curl reports"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|curl -> p:HOST|nginx tcp/$port both flows=$connects"
echo "ok: stitched: curl -> nginx, both ends joined, no one-sided edge"
echo "PASS real_nginx ($connects connections, workers as the access log says)"
