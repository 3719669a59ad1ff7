# Hosts of multi-machine tests: network namespaces PREFIX-ns1..N, each with lo up and an eth0
# at SUBNET.n/24 on one bridge. The bridge lives in a namespace of its own (PREFIX-sw), so
# nothing of the test touches the host's network.
#   bridged_hosts_up PREFIX SUBNET N      e.g. bridged_hosts_up nvt-g-123 10.77.0 4
#   bridged_hosts_down PREFIX N           (in the test's cleanup; never fails)

bridged_hosts_up() {
  local p=$1 subnet=$2 count=$3 n ns
  ip netns add "$p-sw"
  ip -n "$p-sw" link add br0 type bridge
  ip -n "$p-sw" link set br0 up
  for n in $(seq "$count"); do
    ns=$p-ns$n
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$p-sw" link add "v$n" type veth peer name eth0 netns "$ns"
    ip -n "$p-sw" link set "v$n" master br0 up
    ip -n "$ns" addr add "$subnet.$n/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

bridged_hosts_down() {
  local p=$1 count=$2 n
  for n in $(seq "$count"); do ip netns del "$p-ns$n" 2>/dev/null || true; done
  ip netns del "$p-sw" 2>/dev/null || true
}
