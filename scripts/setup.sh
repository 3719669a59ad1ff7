#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages, then builds netviz into
# ./build. Run as root (or with sudo) on Debian 12 or later.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libclang-rt-dev
  # NAT translations read from conntrack; the NAT tests set real iptables rules.
  libnetfilter-conntrack-dev iptables
  # The fleet transport (src/fleet/) and its tests: the NATS C client and a real server.
  libnats-dev nats-server
  graphviz jq iproute2 procps iputils-ping
  # Pictures, the live page and its metrics (netviz-stitch --format svg, --serve).
  libgraphviz-dev libcpp-httplib-dev prometheus-cpp-dev
  # The live page's browser test and the metrics check.
  chromium chromium-driver python3-selenium prometheus
  lsof net-tools libbpf-tools python3 time
  # The real-server end-to-end tests (tests/e2e/real_*.sh) drive these.
  postgresql nginx-light redis-server redis-tools dnsmasq-base bind9-dnsutils iperf3 socat curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Installing the servers the real-server tests drive must not start the distro's services
  # (postgres on 5432, nginx on 80, redis on 6379): the tests start their own, on private
  # ports. policy-rc.d 101 tells invoke-rc.d not to start anything, for this install only.
  policy=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [[ -n $policy ]] && rm -f "$policy" && trap - EXIT
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the two tools: the tests are built by scripts/test.sh, which asks for them.
cmake --build build -j"$(nproc)" --target netviz-trace netviz-stitch
echo "setup.sh: built build/netviz-trace and build/netviz-stitch"
