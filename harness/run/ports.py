"""Ports and addresses a program chooses: who holds a busy port (a process, by the socket's
inode in /proc/net/tcp and the fds of /proc/*/fd, or a connection in TIME_WAIT), the port a
listener was given, and the addresses this machine's host name resolves to (a tutorial's
server binds `socket.gethostname()`: 127.0.1.1 on Debian and Ubuntu)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache

# /proc/net/tcp's state numbers (include/net/tcp_states.h)
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING"}
TIME_WAIT = 6
LISTEN = 10
HOST_LOOKUP_TIMEOUT = 2.0  # seconds the host name's lookup may take (a DNS that never answers)


@dataclass(frozen=True, slots=True)
class PortUse:
    """One socket of /proc/net/{tcp,tcp6,udp,udp6} on a local port."""

    address: str  # its local address
    port: int
    state: int  # TCP state number (UDP: 7, CLOSE, or 1 once connected)
    inode: int  # 0 for a socket no process holds (TIME_WAIT)


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # IPv6: four 32-bit words, each in the host's (little-endian) order
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def port_uses(kind: str = "tcp", proc: str = "/proc") -> list[PortUse]:
    """Every socket the kernel lists for kind (tcp or udp), IPv4 and IPv6."""
    found = []
    for name in (kind, kind + "6"):
        try:
            with open(os.path.join(proc, "net", name)) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            try:
                hex_addr, hex_port = fields[1].split(":")
                found.append(PortUse(address=_address(hex_addr), port=int(hex_port, 16),
                                     state=int(fields[3], 16), inode=int(fields[9])))
            except ValueError:
                continue
    return found


def holders(inodes: set[int], proc: str = "/proc") -> dict[int, list[int]]:
    """inode -> the pids holding an fd of that socket (those the harness may look at)."""
    wanted = {f"socket:[{i}]": i for i in inodes}
    out: dict[int, list[int]] = {}
    if not wanted:
        return out
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link in wanted and int(pid) not in out.setdefault(wanted[link], []):
                out[wanted[link]].append(int(pid))
    return out


def command_line(pid: int, proc: str = "/proc", limit: int = 60) -> str:
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as f:
            argv = f.read(4096).rstrip(b"\0").split(b"\0")
    except OSError:
        return "?"
    text = " ".join(a.decode("utf-8", errors="replace") for a in argv)
    return text if len(text) <= limit else text[:limit] + "…"


def port_holder(port: int, kind: str = "tcp", proc: str = "/proc") -> str:
    """Who holds a local port, in words: `held by pid 4242 (php server.php), listening on
    0.0.0.0:1234`; `in TIME_WAIT: ...`; or that the harness cannot see who."""
    uses = [u for u in port_uses(kind, proc) if u.port == port]
    live = [u for u in uses if u.inode]
    if live:
        pids = holders({u.inode for u in live}, proc)
        for u in live:
            for pid in pids.get(u.inode, ()):
                state = TCP_STATES.get(u.state, str(u.state)) if kind == "tcp" else "bound"
                where = f"[{u.address}]" if ":" in u.address else u.address
                doing = "listening on" if u.state == LISTEN and kind == "tcp" else \
                    f"{state} on" if kind == "tcp" else "bound to"
                return f"held by pid {pid} ({command_line(pid, proc)}), {doing} {where}:{port}"
        return (f"held by a socket of a process the harness cannot see (inode "
                f"{live[0].inode}: another user's, or another namespace's)")
    if any(u.state == TIME_WAIT for u in uses):
        return ("in TIME_WAIT: a connection on it closed less than a minute ago, and a bind "
                "without SO_REUSEADDR fails until the kernel forgets it (wait, or set "
                "SO_REUSEADDR before bind)")
    return "taken by another program (gone since)"


def port_of_inode(inode: int, kind: str = "tcp", proc: str = "/proc") -> int | None:
    """The local port of the socket with that inode, as the kernel lists it."""
    return next((u.port for u in port_uses(kind, proc) if u.inode == inode and u.port), None)


@cache
def host_addresses() -> tuple[str, ...]:
    """The addresses socket.gethostname() resolves to, as a tutorial's program finds them
    (/etc/hosts first: 127.0.1.1 on Debian and Ubuntu); () when the lookup fails or takes
    longer than HOST_LOOKUP_TIMEOUT (looked up once per process, in a thread of its own)."""
    import threading

    found: list[str] = []

    def look() -> None:
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return
        found.extend(dict.fromkeys(str(info[4][0]) for info in infos))

    t = threading.Thread(target=look, daemon=True)
    t.start()
    t.join(HOST_LOOKUP_TIMEOUT)
    return tuple(found) if not t.is_alive() else ()
