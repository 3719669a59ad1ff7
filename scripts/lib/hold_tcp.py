#!/usr/bin/env python3
"""Holds N loopback TCP connections (both ends, so 2N sockets) plus one listener.

Prints "ready PID PORT" on stdout once every connection is established, then waits until
it is killed, its parent exits or --max-seconds pass. Closes abortively (RST), so no
TIME_WAIT sockets are left behind. Used by scripts/bench-snapshot.
"""
import argparse
import os
import socket
import struct
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--family", choices=["ipv4", "ipv6"], default="ipv4")
    a = ap.parse_args()
    parent = os.getppid()
    fam, host = (socket.AF_INET, "127.0.0.1") if a.family == "ipv4" else (socket.AF_INET6, "::1")
    linger0 = struct.pack("ii", 1, 0)

    lst = socket.socket(fam, socket.SOCK_STREAM)
    lst.bind((host, 0))
    lst.listen(1024)
    port = lst.getsockname()[1]
    held = []
    for _ in range(a.connections):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        c.connect((host, port))
        s, _ = lst.accept()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        held.append(c)
        held.append(s)
    print(f"ready {os.getpid()} {port}", flush=True)

    deadline = time.monotonic() + a.max_seconds
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
