"""The one dialogue engine: pexpect over a connection, with a telnet-style transcript.

Client lines are recorded as `C: ...`, server lines as `S: ...`, exactly as they crossed the wire,
so a transcript reads like the tutorial's telnet sessions.
"""

from __future__ import annotations

import os
import selectors
import shlex
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import pexpect
from pexpect.socket_pexpect import SocketSpawn

from wizard.net import relay
from wizard.net.relay import PREFIX as RELAY_PREFIX

RELAY_SCRIPT = relay.__file__

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


def connect(host: str, port: int, timeout: float, source: str = "") -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
    except OSError as exc:
        raise DialogueError(f"cannot connect to {host}:{port} ({exc.strerror or exc})") from None


class TextSocketSpawn(SocketSpawn):
    """pexpect's SocketSpawn, decoding what it reads (4.9 hands back raw bytes even with an
    encoding) and taking a broken connection as its end."""

    def read_nonblocking(self, size=1, timeout=-1):
        try:
            data = super().read_nonblocking(size, timeout)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            if isinstance(exc, (pexpect.TIMEOUT, pexpect.EOF)):
                raise
            self.flag_eof = True
            raise pexpect.EOF(str(exc)) from None
        return self._decoder.decode(data, final=False) if self.encoding else data


def _pump(inner: socket.socket, proc: subprocess.Popen) -> None:
    """Copy bytes between our end of a socket pair and a helper command's pipes until either
    side closes; then close both, so the dialogue sees the end of the connection. A helper that
    dies complaining (a vanished namespace, an ssh that cannot log in) has its complaint passed
    on as the relay's line, so the probe can say why."""
    selector = selectors.DefaultSelector()
    selector.register(inner, selectors.EVENT_READ, "inner")
    selector.register(proc.stdout, selectors.EVENT_READ, "proc")
    try:
        while True:
            for key, _ in selector.select(timeout=60):
                if key.data == "inner":
                    data = inner.recv(65536)
                    if not data:
                        proc.stdin.close()
                        return
                    proc.stdin.write(data)
                    proc.stdin.flush()
                else:
                    data = os.read(proc.stdout.fileno(), 65536)
                    if not data:
                        _pass_on_complaint(inner, proc)
                        return
                    inner.sendall(data)
    except OSError:
        pass
    finally:
        selector.close()
        inner.close()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pass_on_complaint(inner: socket.socket, proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=2)
        complaint = proc.stderr.read().decode(errors="replace").strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return
    if proc.returncode and complaint:
        inner.sendall(f"{RELAY_PREFIX} {argv_name(proc)}: {complaint[-1]}\n".encode())


def argv_name(proc: subprocess.Popen) -> str:
    args = proc.args if isinstance(proc.args, list) else [str(proc.args)]
    return " ".join(args[:4]) if args[0] == "ip" else args[0]


def command_socket(argv: list[str]) -> socket.socket:
    """A socket whose far end is a command's stdin/stdout (`ip netns exec ... relay`, `ssh -W`).

    Returning a real socket keeps one code path for every vantage point, STARTTLS included.
    """
    outer, inner = socket.socketpair()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        outer.close()
        inner.close()
        raise DialogueError(f"cannot start {argv[0]} ({exc.strerror or exc})") from None
    threading.Thread(target=_pump, args=(inner, proc), daemon=True).start()
    return outer


def open_channel(host: str, port: int, timeout: float, via: str = "local",
                 ssh_config: str = "", source: str = "") -> socket.socket:
    """A connection to host:port from a vantage point: local, netns:NAME or ssh:user@host
    (`ssh -W` opens it from there; `ssh_config` is passed as `ssh -F`). `source`: the address
    the connection starts from (one of the vantage point's own)."""
    if via in ("local", ""):
        return connect(host, port, timeout, source)
    kind, _, where = via.partition(":")
    if kind == "netns" and is_address(host):
        # No name to resolve with the namespace's own DNS: a socket made inside it is enough.
        return netns_connect(where, host, port, timeout, source)
    if kind == "netns":
        # The relay by its path, isolated and without site: it needs only the standard library,
        # and a bare interpreter starts in half the time (one start per probe from outside).
        return command_socket(["ip", "netns", "exec", where, sys.executable, "-I", "-S", RELAY_SCRIPT,
                               host, str(port), f"{timeout:g}", *([source] if source else [])])
    if kind == "ssh" and not source:
        options = ["-F", ssh_config] if ssh_config else []
        return command_socket(["ssh", *options, "-o", "BatchMode=yes",
                               "-o", f"ConnectTimeout={max(1, int(timeout))}", "-W", f"{host}:{port}", where])
    if kind == "ssh":
        raise DialogueError(f"ssh -W cannot choose the address a connection starts from ({source})")
    raise DialogueError(f"no way to connect from vantage point '{via}'")


def is_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


CLONE_NEWNET = 0x40000000


def netns_connect(namespace: str, host: str, port: int, timeout: float, source: str = "") -> socket.socket:
    """A TCP connection started inside a network namespace, by a thread that enters it (a
    socket keeps the namespace it was made in): no process to start, as `ip netns exec` needs."""
    import ctypes

    made: dict = {}

    def work() -> None:
        try:
            fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        except OSError as exc:
            made["error"] = f"cannot enter network namespace {namespace} ({exc.strerror or exc})"
            return
        try:
            if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                made["error"] = f"cannot enter network namespace {namespace} ({os.strerror(ctypes.get_errno())})"
                return
        finally:
            os.close(fd)
        try:
            made["socket"] = connect(host, port, timeout, source)
        except DialogueError as exc:
            made["error"] = str(exc)

    thread = threading.Thread(target=work, daemon=True)    # it ends with its namespace
    thread.start()
    thread.join()
    if "error" in made:
        raise DialogueError(made["error"])
    return made["socket"]


def telnet_line(host: str, port: int, via: str = "local", source: str = "") -> str:
    """How the tutorial's reader would open this connection by hand."""
    prefix = "" if via in ("local", "") else f"[{via}] "
    bind = f"-b {source} " if source else ""
    return f"{prefix}$ telnet {bind}{shlex.quote(host)} {port}"


class Dialogue:
    """Line-oriented talk with a server; every wait is bounded by `timeout`."""

    def __init__(self, sock: socket.socket, transcript: Transcript, timeout: float = 10.0):
        self.sock = sock
        self.child = self._spawn(sock, timeout)
        self.transcript = transcript
        self.timeout = timeout
        self.peer_der = b""

    @staticmethod
    def _spawn(sock: socket.socket, timeout: float) -> SocketSpawn:
        return TextSocketSpawn(sock, timeout=timeout, encoding="utf-8", codec_errors="replace")

    def start_tls(self, server_name: str, verify_with: str | None = None) -> str:
        """Switch this connection to TLS (after STARTTLS, or at once on 993); returns a line
        naming the certificate. Without `verify_with` any certificate is accepted (a fresh
        server has a self-signed one); with it, the chain must lead to that CA file ("" is the
        system's trust store) and the certificate must name `server_name`, as a mail client
        that checks demands."""
        if verify_with is None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=verify_with or None)
        try:
            self.sock.settimeout(self.timeout)
            self.sock = context.wrap_socket(self.sock, server_hostname=server_name)
        except (OSError, ssl.SSLError) as exc:
            self.transcript.add("S", f"(TLS handshake failed: {exc})")
            raise DialogueError(f"the TLS handshake failed ({exc})") from None
        self.child = self._spawn(self.sock, self.timeout)
        der = self.sock.getpeercert(binary_form=True) or b""
        self.peer_der = der
        summary = f"{self.sock.version()}, certificate of {len(der)} bytes"
        self.transcript.add("S", f"(TLS established: {summary})")
        return summary

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Dialogue":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, line: str, shown: str | None = None) -> None:
        self.transcript.add("C", line if shown is None else shown)
        try:
            self.sock.sendall((line + "\r\n").encode("utf-8"))
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
