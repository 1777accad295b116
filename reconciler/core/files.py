"""The filesystem boundary: what may be read, and how files are written.

Reading (the snapshot files and reconciler.yaml are input a pull request controls):
- A walk never leaves its confinement root: a symbolic link that resolves outside it is
  reported at the link and not followed. Links inside are followed once (no loops).
- Only regular files are read: the file is opened non-blocking and checked with fstat
  before any read, so a FIFO, socket, device or `/dev/stdin` is an error, never a hang.
- Each file is read up to a size limit, and a `ReadBudget` bounds the total bytes of a run.

Writing: `atomic_write` writes a temporary file in the target's folder, fsyncs it and
renames it over the target, so a reader, a crash or a full disk never leaves half a file.
A symbolic link at the target is refused (never replaced, never written through): writing
through a link could land outside the repository, replacing it would surprise its owner.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.core.errors import ReconcilerError
from reconciler.core.output import redact_file_text

#: Total bytes all snapshot files of one load may hold (each is also capped on its own).
MAX_TOTAL_BYTES: Final = 200 * 1024 * 1024

_READ_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS: Final = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


class Refused(ReconcilerError):
    """A file that may not be read or written; the message says why (no path in it)."""


class BudgetExceeded(Refused):
    """The run's total read budget is spent: stop reading files."""


class ReadBudget:
    """Bytes left to read in this run; shared by every file of one load."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_TOTAL_BYTES if limit is None else limit
        self.left = self.limit

    def take(self, size: int) -> None:
        if size > self.left:
            self.left = 0
            raise BudgetExceeded(
                "not read, nor any file after it: the snapshot files exceed"
                f" {_size(self.limit)} in total"
            )
        self.left -= size


def _size(limit: int) -> str:
    megabytes, rest = divmod(limit, 1024 * 1024)
    return f"{megabytes} MB" if megabytes and not rest else f"{limit:,} bytes"


def _kind(mode: int) -> str | None:
    for test, name in _KINDS:
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "a special file"


def read_regular(path: str | Path, limit: int, budget: ReadBudget | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises Refused (a message for
    people) for anything else: missing, unreadable, not a regular file, too large."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise Refused(f"cannot read file: it is {kind}, not a regular file")
        if info.st_size > limit:
            raise _too_large(limit)
        if budget is not None:
            budget.take(info.st_size)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise Refused(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:  # grew while being read
        raise _too_large(limit)
    return b"".join(chunks)


def _too_large(limit: int) -> Refused:
    return Refused(f"file is larger than the {_size(limit)} limit")


def is_within(path: str, root: str) -> bool:
    """Whether `path` is `root` or under it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def outside_message(target: str) -> str:
    return f"symbolic link leads outside the repository (to {target}): not followed"


def check_link(path: str, confinement: str) -> str | Refused:
    """The real path a link leads to, or why it may not be followed."""
    lenient = os.path.realpath(path)
    if not is_within(lenient, confinement):
        return Refused(outside_message(lenient))
    try:
        return os.path.realpath(path, strict=True)
    except OSError as exc:
        return Refused(f"cannot read file: {exc.strerror or exc}")


#: Called with (path, message) for each problem met while walking.
OnProblem = Callable[[Path, str], None]


def walk(
    top: Path, confinement: str, wanted: Callable[[str], bool], on_problem: OnProblem
) -> Iterator[tuple[Path, str]]:
    """(path as reached from `top`, real path) of each wanted file under the directory
    `top`, sorted, skipping hidden directories. Links are resolved and must stay inside
    `confinement` (a real path); each directory is entered once, so link loops end."""
    visited: set[str] = set()
    start = os.path.realpath(top)
    visited.add(start)
    pending = [(top, start)]
    while pending:
        folder, real_folder = pending.pop()
        try:
            with os.scandir(real_folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            on_problem(folder, f"cannot read directory: {exc.strerror or exc}")
            continue
        subfolders: list[tuple[Path, str]] = []
        for entry in entries:
            path = folder / entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
            except OSError as exc:
                on_problem(path, f"cannot read file: {exc.strerror or exc}")
                continue
            if is_dir and entry.name.startswith("."):
                continue
            if not is_dir and not wanted(entry.name):
                continue
            real = os.path.join(real_folder, entry.name)
            if is_link:
                problem = check_link(real, confinement)
                if isinstance(problem, Refused):
                    on_problem(path, str(problem))
                    continue
                real = problem
            if is_dir:
                if real not in visited:
                    visited.add(real)
                    subfolders.append((path, real))
            else:
                yield path, real
        pending.extend(reversed(subfolders))


# -- writing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileState:
    """What a file was when read, to tell whether it changed before we replace it."""

    size: int
    mtime_ns: int
    sha256: str


def state_of(data: bytes, info: os.stat_result) -> FileState:
    import hashlib  # lazy: only the writers need it, and reading starts every command

    return FileState(info.st_size, info.st_mtime_ns, hashlib.sha256(data).hexdigest())


def read_with_state(path: str | Path, limit: int) -> tuple[bytes, FileState]:
    """A regular file's bytes and its state, for a later `atomic_write(..., expect=state)`.
    Raises Refused for a symbolic link (it could not be written back) and as read_regular."""
    check_target(path)
    data = read_regular(path, limit)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise Refused(exc.strerror or str(exc)) from None
    return data, state_of(data, info)


def _current_state(path: Path) -> FileState | None:
    try:
        data = read_regular(path, 1 << 40)
        return state_of(data, os.stat(path))
    except (Refused, OSError):
        return None


def check_target(path: str | Path, *, overwrite: bool = True) -> os.stat_result | None:
    """The target's lstat (None when it does not exist), or Refused when atomic_write would
    refuse it: a symbolic link, not a regular file, or existing with `overwrite` false."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(exc.strerror or str(exc)) from None
    if stat.S_ISLNK(info.st_mode):
        raise Refused("it is a symbolic link: refused (neither replaced nor written through)")
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"it is {_kind(info.st_mode)}, not a regular file")
    if not overwrite:
        raise _exists()
    return info


def _exists() -> Refused:
    return Refused("it already exists (use --force to replace it)")


def atomic_write(
    path: str | Path,
    data: bytes | str,
    *,
    overwrite: bool = True,
    expect: FileState | None = None,
) -> None:
    """Write `data` to `path` all at once: a temporary file in the same folder, fsynced,
    renamed over the target. Raises Refused, leaving the target as it was, when the target
    is a symbolic link or not a regular file, when it exists and `overwrite` is false, when
    it no longer matches `expect` (changed since read), or when the write fails (a full
    disk, a read-only folder). The message says why, without the path."""
    target = Path(path)
    # Every file the tool writes is masked like every other output (a server may echo keys).
    payload = redact_file_text(data).encode("utf-8") if isinstance(data, str) else data
    info = check_target(target, overwrite=overwrite)
    if info is None and expect is not None:
        raise Refused("it was removed since it was read: not written")
    mode = stat.S_IMODE(info.st_mode) if info is not None else _new_file_mode()
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = _temporary(folder, target.name)
    except OSError as exc:
        raise Refused(exc.strerror or str(exc)) from None
    try:
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode)
        except OSError as exc:
            raise Refused(exc.strerror or str(exc)) from None
        # The window between this check and the rename is a few system calls.
        if expect is not None and _current_state(target) != expect:
            raise Refused("it changed since it was read (edited meanwhile?): not written")
        _install(temporary, target, overwrite)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    _sync_folder(folder)


def _temporary(folder: Path, name: str) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")


def _install(temporary: str, target: Path, overwrite: bool) -> None:
    try:
        if overwrite:
            os.replace(temporary, target)
            return
        # A hard link fails if the name exists: no window in which another file is replaced.
        os.link(temporary, target)
    except FileExistsError:
        raise _exists() from None
    except OSError as exc:
        if not overwrite and exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
            if os.path.lexists(target):
                raise _exists() from None
            _install(temporary, target, overwrite=True)  # no hard links on this filesystem
            return
        raise Refused(exc.strerror or str(exc)) from None


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def display_path(path: str | Path) -> str:
    """The path as the user would write it: relative to the cwd when under it."""
    text = os.fspath(path)
    absolute = os.path.abspath(text)
    cwd = os.getcwd()
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return text
