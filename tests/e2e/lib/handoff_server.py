#!/usr/bin/env python3
"""Fork-per-connection TCP server whose children exit without closing (root e2e helper).

The parent (named nvt_hand_par) accepts N connections one at a time, forks a child per
connection (named nvt_hand_kid) and closes its own copy before the child serves. The child
answers one line and exits without closing its socket: the kernel closes it as the process
goes. (Were the parent's copy still open then, the parent's close would be the last and
the connection rightly its.)
Prints "port P" once listening, then "served CHILD_PID CLIENT_PORT" per connection.
"""
import ctypes
import os
import socket
import sys


def set_comm(name):
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME


def main():
    count = int(sys.argv[1])
    set_comm("nvt_hand_par")
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    print("port", lst.getsockname()[1], flush=True)
    lst.settimeout(30)
    for _ in range(count):
        conn, peer = lst.accept()
        named_r, named_w = os.pipe()
        dropped_r, dropped_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(named_r)
            os.close(dropped_w)
            lst.close()
            set_comm("nvt_hand_kid")
            os.write(named_w, b"ok")
            # The parent's copy goes first, so this process holds the socket last.
            os.read(dropped_r, 2)
            conn.recv(64)
            conn.sendall(b"pong\n")
            os._exit(0)  # no close(): the socket is closed by the exit
        os.close(named_w)
        os.close(dropped_r)
        os.read(named_r, 2)  # the child runs (and is named) before the parent drops its copy
        os.close(named_r)
        conn.close()
        os.write(dropped_w, b"ok")
        os.close(dropped_w)
        print("served", pid, peer[1], flush=True)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
