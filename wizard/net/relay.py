"""A tiny `nc`: joins stdin/stdout to one TCP connection, run inside another network namespace.

The netns vantage point starts it with `ip netns exec NS python -I -S .../relay.py HOST PORT [TIMEOUT [SOURCE]]`
so a probe's connection really starts on the outside host, names resolved by that host's DNS. It
needs only the standard library, so it runs without site and starts in half the time.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys

PREFIX = "mailwizard-relay:"


def main(argv: list[str] | None = None) -> int:
    args = list(argv or sys.argv[1:])
    host, port = args[0], args[1]
    timeout = args[2] if len(args) > 2 else "10"
    source = args[3] if len(args) > 3 else ""      # the address to start from (the outside's own)
    try:
        sock = socket.create_connection((host, int(port)), timeout=float(timeout),
                                        source_address=(source, 0) if source else None)
    except OSError as exc:
        os.write(1, f"{PREFIX} cannot connect to {host}:{port} ({exc.strerror or exc})\n".encode())
        return 1
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "stdin")
    selector.register(sock, selectors.EVENT_READ, "socket")
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                data = os.read(0, 65536)
                if not data:
                    sock.shutdown(socket.SHUT_WR)
                    selector.unregister(0)
                    continue
                sock.setblocking(True)
                sock.sendall(data)
                sock.setblocking(False)
            else:
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    return 0
                os.write(1, data)


if __name__ == "__main__":
    sys.exit(main())
