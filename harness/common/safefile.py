"""Every file the harness reads or writes goes through here.

Reading: a file is opened with O_NOFOLLOW | O_NONBLOCK (a symbolic link is refused, a FIFO
never blocks the open), must be a regular file on the open descriptor (a device such as
/dev/zero, a FIFO or a socket is refused), and no more than a limit of bytes is ever read from
it, whatever its size says (a file may grow while it is read).

Writing: a file is written aside, in a temporary file of the same folder created with
O_CREAT | O_EXCL | O_NOFOLLOW, then renamed over its name: a reader never sees half a file, a
crash leaves no partial file, and nothing is ever written through a link that was planted
there. A symbolic link at the name (or at `FILE.partial`) is used only when it belongs to the
user running the harness or to the owner of its folder (the rule of the kernel's
fs.protected_symlinks, which the harness, often root, would otherwise bypass by resolving the
link itself); any other is refused in one line. New files get mode 0666 less the umask, as
the shell's `>` gives.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator

from harness.common.errors import HarnessError

READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_MODE = 0o666  # less the umask, by the kernel
MAX_LINKS = 40  # links followed in a row, as the kernel's own limit


class UnsafeFile(HarnessError):
    """A file the harness will not read or write as it is: the message names it."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def limit_text(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


# -- reading ------------------------------------------------------------------------------------

def open_regular(path: str | os.PathLike[str],
                 error: type[HarnessError] = UnsafeFile) -> int:
    """A descriptor on path, which must be a regular file and not a symbolic link; error
    (one line naming the file) otherwise."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError as e:
        if e.errno == errno.ELOOP and os.path.islink(path):
            raise error(f"{path}: a symbolic link; the harness reads only regular files "
                        f"(name the file itself)") from None
        raise error(f"{path}: cannot read: {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise error(f"{path}: {_kind(st.st_mode)}, not a regular file; the harness reads only "
                    f"regular files") from None
    return fd


def too_large(path: str | os.PathLike[str], size: int, limit: int, what: str) -> str:
    return f"{path}: {size_text(size)}, more than the {limit_text(limit)} {what}"


class BoundedFile:
    """A regular file opened for reading (open_regular), of which no more than `limit` bytes
    are ever read: past it, error("PATH: N MB, more than the L MB WHAT")."""

    def __init__(self, path: str | os.PathLike[str], limit: int,
                 error: type[HarnessError] = UnsafeFile, what: str = "such a file may be"):
        self.path = path
        self.limit = limit
        self.error = error
        self.what = what
        self.file = os.fdopen(open_regular(path, error), "rb")
        self.read_bytes = 0
        try:
            size = os.fstat(self.file.fileno()).st_size
            if size > limit:
                raise error(too_large(path, size, limit, what))
        except BaseException:
            self.file.close()
            raise

    def __enter__(self) -> BoundedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def close(self) -> None:
        self.file.close()

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise self.error(too_large(self.path, self.read_bytes, self.limit, self.what)
                             + " (it grew while it was read)")
        return data

    def read(self, n: int | None = None) -> bytes:
        """Up to n bytes (None: the rest of the file), within the limit."""
        room = self.limit - self.read_bytes + 1
        return self._count(self.file.read(room if n is None else min(n, room)))

    def readline(self) -> bytes:
        """One line, however long, within the limit (b"" at the end)."""
        return self._count(self.file.readline(self.limit - self.read_bytes + 1))

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def read_bytes(path: str | os.PathLike[str], limit: int,
               error: type[HarnessError] = UnsafeFile, what: str = "such a file may be") -> bytes:
    """The whole of a regular file of at most limit bytes."""
    with BoundedFile(path, limit, error, what) as f:
        return f.read()


def read_tail(path: str | os.PathLike[str], keep: int) -> tuple[bytes, int]:
    """(the last `keep` bytes of a regular file, its size); (b"", 0) when it cannot be read.
    Memory and time do not grow with the file."""
    try:
        fd = open_regular(path)
    except UnsafeFile:
        return b"", 0
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        f.seek(max(0, size - keep))
        return f.read(keep), size


def read_head(path: str | os.PathLike[str], keep: int) -> tuple[bytes, int]:
    """(the first `keep` bytes of a regular file, its size); (b"", 0) when it cannot be
    read."""
    try:
        fd = open_regular(path)
    except UnsafeFile:
        return b"", 0
    with os.fdopen(fd, "rb") as f:
        return f.read(keep), os.fstat(fd).st_size


# -- writing ------------------------------------------------------------------------------------

def _link_allowed(path: str, st: os.stat_result) -> bool:
    """A link owned by the user, or by the owner of its folder (who could change anything
    there anyway)."""
    if st.st_uid == os.geteuid():
        return True
    try:
        return os.stat(os.path.dirname(path) or ".").st_uid == st.st_uid
    except OSError:
        return False


def check_link(path: str, st: os.stat_result | None = None) -> None:
    """Refuse (UnsafeFile) a symbolic link at path that belongs to another user."""
    if st is None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
    if stat.S_ISLNK(st.st_mode) and not _link_allowed(path, st):
        raise UnsafeFile(f"{path}: a symbolic link owned by another user (uid {st.st_uid}); "
                         f"the harness neither writes through it nor replaces it (remove it, "
                         f"or write elsewhere)")


def check_owner(path: str, st: os.stat_result) -> None:
    """Refuse (UnsafeFile) to replace another user's file in a folder anyone may write and
    only owners may delete from (/tmp: sticky, world-writable), as the kernel's
    fs.protected_regular refuses to open it for writing, even to root."""
    if st.st_uid == os.geteuid():
        return
    try:
        folder = os.stat(os.path.dirname(path) or ".")
    except OSError:
        return
    shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if shared and st.st_uid != folder.st_uid:
        raise UnsafeFile(f"{path}: a file of another user (uid {st.st_uid}) in a folder "
                         f"anyone may write; the harness does not replace it (remove it, or "
                         f"write elsewhere)")


def target(path: str | os.PathLike[str], follow: bool) -> tuple[str, bool]:
    """Where a write to path goes: (the file to replace, whether to write to it directly).
    follow: a link at path (one of the user's, check_link) leads to its target, a device or
    a FIFO (-o /dev/null, /dev/stdout) is written to directly; without follow, a link at
    path is itself replaced by the file, and nothing but a regular file is written."""
    p = os.path.abspath(path)
    for _ in range(MAX_LINKS):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return p, False
        except OSError as e:
            raise UnsafeFile(f"{p}: cannot write: {e.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            check_link(p, st)
            if not follow:
                return p, False
            try:
                final = os.stat(p)
            except OSError:
                final = None  # a dangling link: its target is created
            if final is not None and not stat.S_ISREG(final.st_mode):
                if stat.S_ISDIR(final.st_mode):
                    raise UnsafeFile(f"{p}: is a folder")
                return p, True
            p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
            continue
        if stat.S_ISREG(st.st_mode):
            check_owner(p, st)
            return p, False
        if stat.S_ISDIR(st.st_mode):
            raise UnsafeFile(f"{p}: is a folder")
        if follow:
            return p, True
        raise UnsafeFile(f"{p}: {_kind(st.st_mode)} where the harness writes a file (remove "
                         f"it)")
    raise UnsafeFile(f"{path}: {MAX_LINKS} symbolic links in a row")


def create_new(path: str, replace_stale: bool = True) -> int:
    """A new file at path, opened for writing (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0666 less the
    umask). What was there is removed first when replace_stale (a file a crash left, a link
    of the user's; a link of another user is refused); what appears in between is refused."""
    if replace_stale:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            pass
        else:
            check_link(path, st)
            if stat.S_ISDIR(st.st_mode):
                raise UnsafeFile(f"{path}: a folder where the harness writes a file (remove "
                                 f"it)")
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    try:
        return os.open(path, NEW_FILE_FLAGS, NEW_FILE_MODE)
    except FileExistsError:
        raise UnsafeFile(f"{path}: appeared while the harness was creating it (another "
                         f"program writes there); nothing written") from None


def temporary(folder: str, name: str) -> tuple[int, str]:
    """A new temporary file `.NAME.XXXXXXXX.tmp` in folder (never one that was there)."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, NEW_FILE_FLAGS, NEW_FILE_MODE), tmp
        except FileExistsError:
            continue
    raise UnsafeFile(f"{folder}: cannot make a temporary file for {name}")


def write_all(fd: int, data: bytes) -> None:
    """All of data to fd (an unbuffered write may be short)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_chunks_atomic(path: str | os.PathLike[str], chunks: Iterable[str] | Iterable[bytes],
                        fsync: bool = True, follow: bool = True, binary: bool = False) -> None:
    """Write text made piece by piece (never held whole) to path through a temporary file in
    the same folder and a rename. follow and what is refused: see target()."""
    dest, direct = target(path, follow)
    encode = (lambda c: c) if binary else (lambda c: c.encode("utf-8"))
    if direct:  # a device or a FIFO: written to as it is
        fd = os.open(dest, os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY)
        try:
            for chunk in chunks:
                write_all(fd, encode(chunk))
        finally:
            os.close(fd)
        return
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = temporary(folder, os.path.basename(dest))
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(encode(chunk))
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, dest)  # a link planted at dest since is replaced, not followed
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
