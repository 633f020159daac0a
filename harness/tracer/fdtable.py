"""The sockets behind a process's fds: the Tracer's part that asks the kernel what an fd the
tracer did not see made is (by its inode, once), learns a socket met that way, says which
sockets a call's fd arguments name or a readiness call watches, and which sockets no traced
process holds any more (released), their reference counts kept in harness/tracer/state.py
(a part of harness.tracer.core.Tracer)."""

from __future__ import annotations


from harness.tracer import kernel_proc
from harness.tracer.decode_mem import signed32
from harness.tracer.records import Root
from harness.tracer.records import Records
from harness.tracer.state import Proc, SockState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class FdTable(Records):
    """Sockets known by their fds (a part of harness.tracer.core.Tracer)."""

    def _known(self, proc: Proc, fd: int) -> bool:
        """Whether fd is a socket: one the tracer follows, or one the kernel says it is."""
        return fd in proc.socks or (fd >= 0 and fd not in proc.notsock
                                    and self._resolve(proc, fd) is not None)

    def _resolve(self, proc: Proc, fd: int) -> SockState | None:
        """The socket behind an fd the tracer did not see made (inherited, received over a
        unix socket, made by io_uring, taken with pidfd_getfd), asked of the kernel once: its
        inode names it (the same socket as everywhere else in the trace), and a socket met
        for the first time is asked its family, type and addresses. An fd that is no socket
        is remembered as such until it is closed or replaced."""
        if fd < 0 or fd in proc.notsock:
            return None
        inode = kernel_proc.socket_inode(proc.pid, fd)
        if not inode:
            if inode == 0:
                proc.notsock.add(fd)
            return None
        root = proc.root
        sock = root.by_inode.get(inode)
        if sock is None:
            sock = self._learn(proc, fd, inode)
        proc.adopt(fd, sock, kernel_proc.fd_cloexec(proc.pid, fd))
        return sock

    def _local_address(self, proc: Proc, fd: int) -> Any:
        info = kernel_proc.peek_socket(proc.pid, fd)
        return self.decoder.sockaddr(info[2]) if info is not None else None

    def _learn(self, proc: Proc, fd: int, inode: int) -> SockState:
        """A socket met by its inode: what the kernel says of it."""
        info = kernel_proc.peek_socket(proc.pid, fd)
        if info is None:
            return proc.root.new_socket("unknown", "unknown", inode=inode, made=False)
        domain, typ, local, peer = info
        dec = self.decoder
        return proc.root.new_socket(dec.families.name(domain),
                                    dec.t["socket_types"].name(typ & 0xF),
                                    local=dec.sockaddr(local), peer=dec.sockaddr(peer),
                                    inode=inode, made=False)

    @staticmethod
    def _released(root: Root, gone: Iterable[SockState]) -> tuple[int, ...]:
        """The ids of the sockets in gone that no traced process holds any more. Before a
        socket is called released, the kernel is asked whether another traced process holds
        an fd of it that the tracer did not follow (one received over a unix socket, or taken
        with pidfd_getfd): such an fd is followed from then on. A socket the trace did not
        see made is never called released: the process it came from may hold it still."""
        out: list[int] = []
        for sock in gone:
            if sock.refs > 0 or not sock.made or sock.inflight:
                continue
            if sock.inode:
                for other in root.procs:
                    if other.alive:
                        for fd in kernel_proc.socket_fds(other.pid, sock.inode):
                            if other.socks.get(fd) is not sock:
                                other.add(fd, sock, kernel_proc.fd_cloexec(other.pid, fd))
            if sock.refs <= 0:
                out.append(sock.id)
        return tuple(out)

    def _named(self, proc: Proc, name: str, a: tuple[int, ...]) -> dict[int, int]:
        """fd -> socket id for the sockets a call's fd arguments (`fds`) name."""
        socks = proc.socks
        out = {}
        for i in self.fd_args[name]:
            fd = signed32(a[i])
            if fd in socks:
                out[fd] = socks[fd].id
        return out

    @staticmethod
    def _named_by(proc: Proc, fd: Any) -> dict[int, int]:
        """fd -> socket id for the socket a call's `fd` argument names (a net call's)."""
        socks = proc.socks
        return {fd: socks[fd].id} if fd in socks else {}

    @staticmethod
    def _watched(proc: Proc, fds: Iterable[int]) -> dict[int, int]:
        """fd -> socket id for the sockets among the fds a readiness call watches."""
        socks = proc.socks
        return {fd: socks[fd].id for fd in fds if fd in socks}

    def _socket_arg(self, proc: Proc, name: str,
                    a: tuple[int, ...]) -> tuple[int, SockState | None]:
        """The first of a call's fd arguments that is a socket, and its state."""
        fd = -1
        for i in self.fd_args[name]:
            fd = signed32(a[i])
            st = proc.socks.get(fd)
            if st is not None:
                return fd, st
        return fd, None
