"""The one dialogue engine: pexpect over a connection, with a telnet-style transcript.

Client lines are recorded as `C: ...`, server lines as `S: ...`, exactly as they crossed the wire,
so a transcript reads like the tutorial's telnet sessions.
"""

from __future__ import annotations

import shlex
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import pexpect
from pexpect import fdpexpect
from pexpect.popen_spawn import PopenSpawn

from wizard.probes.relay import PREFIX as RELAY_PREFIX

LineSink = Callable[[str], None]


class DialogueError(Exception):
    """The peer closed, went silent or was unreachable: the message says which."""


@dataclass
class Transcript:
    lines: list[str] = field(default_factory=list)
    sink: LineSink | None = None

    def add(self, who: str, text: str) -> None:
        line = f"{who}: {text}"
        self.lines.append(line)
        if self.sink:
            self.sink(line)


@dataclass
class Reply:
    code: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def last(self) -> str:
        return f"{self.code} {self.lines[-1] if self.lines else ''}".strip()


def connect(host: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise DialogueError(f"cannot connect to {host}:{port} ({exc.strerror or exc})") from None


class SocketChannel:
    """A connection made from this box."""

    def __init__(self, sock: socket.socket, timeout: float):
        self.sock = sock
        self.child = fdpexpect.fdspawn(sock.fileno(), timeout=timeout, encoding="utf-8",
                                       codec_errors="replace")

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class CommandChannel:
    """A connection made by a command elsewhere (`ip netns exec ... relay`, `ssh -W`), over pipes."""

    def __init__(self, argv: list[str], timeout: float):
        self.argv = argv
        self.child = PopenSpawn(argv, timeout=timeout, encoding="utf-8", codec_errors="replace")

    def write(self, data: bytes) -> None:
        self.child.proc.stdin.write(data)
        self.child.proc.stdin.flush()

    def close(self) -> None:
        proc = self.child.proc
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except Exception:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def open_channel(host: str, port: int, timeout: float, via: str = "local"):
    """A connection to host:port from a vantage point: local, netns:NAME or ssh:user@host."""
    if via in ("local", ""):
        return SocketChannel(connect(host, port, timeout), timeout)
    kind, _, where = via.partition(":")
    if kind == "netns":
        return CommandChannel(["ip", "netns", "exec", where, sys.executable, "-m",
                               "wizard.probes.relay", host, str(port), f"{timeout:g}"], timeout)
    if kind == "ssh":
        return CommandChannel(["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, int(timeout))}",
                               "-W", f"{host}:{port}", where], timeout)
    raise DialogueError(f"no way to connect from vantage point '{via}'")


def telnet_line(host: str, port: int, via: str = "local") -> str:
    """How the tutorial's reader would open this connection by hand."""
    prefix = "" if via in ("local", "") else f"[{via}] "
    return f"{prefix}$ telnet {shlex.quote(host)} {port}"


class Dialogue:
    """Line-oriented talk with a server; every wait is bounded by `timeout`."""

    def __init__(self, channel, transcript: Transcript, timeout: float = 10.0):
        if isinstance(channel, socket.socket):
            channel = SocketChannel(channel, timeout)
        self.channel = channel
        self.child = channel.child
        self.transcript = transcript
        self.timeout = timeout

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Dialogue":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, line: str, shown: str | None = None) -> None:
        self.transcript.add("C", line if shown is None else shown)
        try:
            self.channel.write((line + "\r\n").encode("utf-8"))
        except OSError as exc:
            raise DialogueError(f"the server closed the connection ({exc.strerror or exc})") from None

    def read_line(self, deadline: float) -> str:
        remaining = max(0.05, deadline - time.monotonic())
        index = self.child.expect(["\r?\n", pexpect.EOF, pexpect.TIMEOUT], timeout=remaining)
        if index == 1:
            rest = (self.child.before or "").strip()
            if rest:
                self.transcript.add("S", rest)
            self.transcript.add("S", "(connection closed by the server)")
            raise DialogueError("the server closed the connection")
        if index == 2:
            self.transcript.add("S", f"(no answer within {self.timeout:g} s)")
            raise DialogueError(f"the server did not answer within {self.timeout:g} s")
        line = self.child.before or ""
        if line.startswith(RELAY_PREFIX):
            self.transcript.add("S", f"({line[len(RELAY_PREFIX):].strip()})")
            raise DialogueError(line[len(RELAY_PREFIX):].strip())
        self.transcript.add("S", line)
        return line

    def read_reply(self) -> Reply:
        """A numeric reply, possibly multi-line (`250-...` then `250 ...`)."""
        deadline = time.monotonic() + self.timeout
        lines = []
        while True:
            line = self.read_line(deadline)
            if len(line) < 3 or not line[:3].isdigit():
                raise DialogueError(f"unexpected line from the server: {line!r}")
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return Reply(line[:3], lines)
