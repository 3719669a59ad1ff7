# Helpers of the tests that start an HTTP endpoint (the live page, /metrics): a free loopback
# port, and a wait until the page answers. Sourced; nothing runs on its own.

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {  # PORT [tenths of a second, default 100]: /graph.json answers
  for _ in $(seq "${2:-100}"); do curl -sf "http://127.0.0.1:$1/graph.json" >/dev/null && return 0; sleep 0.1; done
  return 1
}
