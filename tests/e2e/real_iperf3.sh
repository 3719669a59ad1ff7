#!/usr/bin/env bash
# iperf3, end to end (root): its server (listening dual-stack, so IPv4 clients arrive on an
# IPv6 socket as ::ffff:127.0.0.1) runs one TCP test and one UDP test from two iperf3 clients.
# Both ends write JSON (-J): the client's start.connected (its data stream's ports), the
# server's accepted_connection (each control connection) and start.connected. Checks:
#   - TCP flows on the port: exactly the control connections and the TCP data stream the
#     server's JSON lists, by client port, on both ends; server side iperf3 server's pid,
#     accept, inbound; client side the iperf3 client of that run, connect, outbound;
#   - UDP: one flow per end for the UDP stream: the server's end inbound (iperf3's server
#     connect()s to the client after its first datagram), owned by the server; the client's
#     outbound, owned by that client; datagrams counted at least as many as iperf3 sent/got;
#   - every flow family ipv4 with dotted addresses (not ::ffff:...);
#   - stats: 0 lost; stitching gives iperf3 -> iperf3 joined on both ends for tcp and udp.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init iperf3
rs_need iperf3

port=$(rs_port)
rs_trace_start "$tmp/capture.json"
rs_bg iperf3-server iperf3 -s -p "$port" -J --logfile "$tmp/server.json"
server=$rs_last_pid
rs_wait_tcp "$port" || rs_fail "iperf3 does not listen on $port"
iperf3 -c 127.0.0.1 -p "$port" -t 1 -J >"$tmp/tcp-client.json" 2>"$tmp/tcp-client.log" &
tcp_client=$!
wait "$tcp_client" || rs_fail "iperf3 TCP client failed: $(head -c 300 "$tmp/tcp-client.json")"
iperf3 -c 127.0.0.1 -p "$port" -u -b 2M -t 1 -J >"$tmp/udp-client.json" 2>"$tmp/udp-client.log" &
udp_client=$!
wait "$udp_client" || rs_fail "iperf3 UDP client failed: $(head -c 300 "$tmp/udp-client.json")"
sleep 0.5  # the server writes its JSON of the second test
rs_trace_stop
c=$tmp/capture.json

# The server's record, per test: protocol, control connection's client port, data streams' ports.
jq -s -c '.[] | {proto: .start.test_start.protocol, control: .start.accepted_connection.port,
  data: [.start.connected[].remote_port]}' "$tmp/server.json" >"$tmp/server-tests.jsonl"
rs_eq "tests in the server's JSON" 2 "$(wc -l <"$tmp/server-tests.jsonl")"
srv_tcp_ports=$(jq -r '.control, (select(.proto == "TCP") | .data[])' "$tmp/server-tests.jsonl" | sort -n)
srv_udp_port=$(jq -r 'select(.proto == "UDP") | .data[]' "$tmp/server-tests.jsonl")
tcp_data_port=$(jq -r '.start.connected[].local_port' "$tmp/tcp-client.json")
udp_data_port=$(jq -r '.start.connected[].local_port' "$tmp/udp-client.json")
rs_eq "UDP stream's client port (server's JSON vs client's)" "$udp_data_port" "$srv_udp_port"
grep -qx "$tcp_data_port" <<<"$srv_tcp_ports" || rs_fail "TCP stream $tcp_data_port not in the server's JSON"

rs_flows "$c" tcp "$port" server >"$tmp/tcp-server.jsonl"
rs_flows "$c" tcp "$port" client >"$tmp/tcp-client.jsonl"
rs_flows "$c" udp "$port" server >"$tmp/udp-server.jsonl"
rs_flows "$c" udp "$port" client >"$tmp/udp-client.jsonl"
rs_eq "server-side TCP flows by client port (server's JSON: 2 control + 1 data)" \
  "$(echo $srv_tcp_ports)" "$(jq -r .remote.port "$tmp/tcp-server.jsonl" | sort -n | tr '\n' ' ' | sed 's/ $//')"
rs_eq "client-side TCP flows by client port" \
  "$(echo $srv_tcp_ports)" "$(jq -r .local.port "$tmp/tcp-client.jsonl" | sort -n | tr '\n' ' ' | sed 's/ $//')"
bad=$(jq -c --argjson p "$server" 'select(.pid != $p or .comm != "iperf3" or .direction != "inbound"
    or .attribution != "accept" or .family != "ipv4" or .local.addr != "127.0.0.1"
    or .remote.addr != "127.0.0.1")' "$tmp/tcp-server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side TCP flows not the iperf3 server's ($server), ipv4: $bad"
echo "ok: server-side TCP: iperf3 server $server, accept, inbound, ipv4 127.0.0.1"
# Client side: the UDP run's control connection is the UDP client's, the rest the TCP client's.
udp_control=$(jq -r 'select(.proto == "UDP") | .control' "$tmp/server-tests.jsonl")
bad=$(jq -c --argjson t "$tcp_client" --argjson u "$udp_client" --argjson uc "$udp_control" '
    select(.pid != (if .local.port == $uc then $u else $t end) or .comm != "iperf3"
    or .direction != "outbound" or .attribution != "connect" or .family != "ipv4")' \
  "$tmp/tcp-client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side TCP flows not the iperf3 clients' ($tcp_client, $udp_client): $bad"
echo "ok: client-side TCP: each iperf3 client's own pid, connect, outbound, ipv4"

rs_eq "server-side UDP flows" 1 "$(wc -l <"$tmp/udp-server.jsonl")"
rs_eq "client-side UDP flows" 1 "$(wc -l <"$tmp/udp-client.jsonl")"
bad=$(jq -c --argjson p "$server" --argjson cp "$udp_data_port" 'select(.pid != $p
    or .comm != "iperf3" or .direction != "inbound" or .family != "ipv4"
    or .remote.addr != "127.0.0.1" or .remote.port != $cp)' "$tmp/udp-server.jsonl")
[[ -z $bad ]] || rs_fail "server-side UDP flow not the iperf3 server's, inbound, ipv4: $bad"
bad=$(jq -c --argjson p "$udp_client" 'select(.pid != $p or .comm != "iperf3"
    or .direction != "outbound" or .family != "ipv4")' "$tmp/udp-client.jsonl")
[[ -z $bad ]] || rs_fail "client-side UDP flow not the iperf3 UDP client's ($udp_client): $bad"
sent=$(jq -r '.end.sum.packets' "$tmp/udp-client.json")
got_cli=$(jq -r .packets "$tmp/udp-client.jsonl")
got_srv=$(jq -r .packets "$tmp/udp-server.jsonl")
((got_cli >= sent)) || rs_fail "client-side UDP flow has $got_cli datagrams, iperf3 sent $sent"
rcvd=$(jq -s -r '.[] | select(.start.test_start.protocol == "UDP")
  | .end.sum.packets - .end.sum.lost_packets' "$tmp/server.json")
((got_srv >= rcvd)) || rs_fail "server-side UDP flow has $got_srv datagrams, iperf3 server received $rcvd"
echo "ok: UDP: server $server inbound, client $udp_client outbound, ipv4; datagrams $got_cli/$got_srv (iperf3: sent $sent, server got $rcvd)"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|iperf3 -> p:HOST|iperf3 tcp/$port both flows=3" \
  "p:HOST|iperf3 -> p:HOST|iperf3 udp/$port both flows=1"
echo "ok: stitched: iperf3 -> iperf3 tcp and udp, both ends joined, no one-sided edge"
echo "PASS real_iperf3"
