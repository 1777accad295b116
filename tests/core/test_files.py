"""The filesystem boundary: only regular files within their limits are read, walks never
leave their root, and a write replaces a file whole or not at all, never through a link."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from reconciler.core import files
from reconciler.core.secrets import Credentials

KEY = "files-api-key-5a6b7c8d9e0f1a2b"
#: Far above the real cost (a few system calls); it only turns a hang into a failure.
HANG_GUARD_S = 10


def tmp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def refusal(call: object) -> str:
    """The message of the Refused that `call` raises."""
    assert callable(call)
    with pytest.raises(files.Refused) as raised:
        call()
    return str(raised.value)


# -- reading ---------------------------------------------------------------------------


def test_a_regular_file_is_read_whole_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"0123456789")
    assert files.read_regular(path, 10) == b"0123456789"
    assert refusal(lambda: files.read_regular(path, 9)) == "file is larger than the 9 bytes limit"
    assert refusal(lambda: files.read_regular(path, 0)) == "file is larger than the 0 bytes limit"


@pytest.mark.parametrize(
    ("limit", "shown"),
    [(20 * 1024 * 1024, "20 MB"), (1024 * 1024 + 1, "1,048,577 bytes"), (1500, "1,500 bytes")],
)
def test_a_size_limit_is_named_for_people(tmp_path: Path, limit: int, shown: str) -> None:
    path = tmp_path / "big"
    with path.open("wb") as stream:
        stream.truncate(limit + 1)  # sparse: no data written
    assert (
        refusal(lambda: files.read_regular(path, limit)) == f"file is larger than the {shown} limit"
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "a.yaml"
    os.mkfifo(fifo)

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the read waited for a writer of the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_GUARD_S)
    try:
        message = refusal(lambda: files.read_regular(fifo, 100))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert message == "cannot read file: it is a FIFO, not a regular file"


def test_a_socket_a_device_and_a_directory_are_refused(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock_path))
        # A socket cannot be opened like a file: refused at open, never read.
        assert refusal(lambda: files.read_regular(sock_path, 100)).startswith("cannot read file: ")
    assert refusal(lambda: files.read_regular("/dev/null", 100)) == (
        "cannot read file: it is a character device, not a regular file"
    )
    assert refusal(lambda: files.read_regular(tmp_path, 100)) == (
        "cannot read file: it is a directory, not a regular file"
    )
    assert refusal(lambda: files.read_regular(tmp_path / "none", 100)) == (
        "cannot read file: No such file or directory"
    )


def test_the_read_budget_is_shared_by_every_file_of_a_run(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 6)
    (tmp_path / "b").write_bytes(b"x" * 5)
    budget = files.ReadBudget(10)
    assert files.read_regular(tmp_path / "a", 100, budget) == b"x" * 6
    assert budget.left == 4
    with pytest.raises(files.BudgetExceeded) as raised:
        files.read_regular(tmp_path / "b", 100, budget)
    assert str(raised.value) == (
        "not read, nor any file after it: the snapshot files exceed 10 bytes in total"
    )
    assert budget.left == 0  # spent: nothing after it is read either
    with pytest.raises(files.BudgetExceeded):
        files.read_regular(tmp_path / "a", 100, budget)
    assert files.ReadBudget().limit == files.MAX_TOTAL_BYTES == 200 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "root", "within"),
    [
        ("/repo", "/repo", True),
        ("/repo/a/b", "/repo", True),
        ("/repo/a", "/repo/", True),
        ("/repository", "/repo", False),
        ("/repo-other/a", "/repo", False),
        ("/", "/repo", False),
        ("/anything", "/", True),
    ],
)
def test_within_means_the_root_or_under_it_not_a_name_that_starts_alike(
    path: str, root: str, within: bool
) -> None:
    assert files.is_within(path, root) is within


def test_a_link_is_followed_only_inside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "snapshots").mkdir(parents=True)
    (root / "real.yaml").write_text("x")
    (tmp_path / "secret").write_text("x")
    os.symlink("../real.yaml", root / "snapshots" / "in.yaml")
    os.symlink(tmp_path / "secret", root / "snapshots" / "out.yaml")
    os.symlink("../missing.yaml", root / "snapshots" / "dangling.yaml")
    confinement = os.path.realpath(root)
    assert files.check_link(str(root / "snapshots" / "in.yaml"), confinement) == str(
        (root / "real.yaml").resolve()
    )
    out = files.check_link(str(root / "snapshots" / "out.yaml"), confinement)
    assert isinstance(out, files.Refused)
    assert str(out) == (
        f"symbolic link leads outside the repository (to {(tmp_path / 'secret').resolve()}): "
        "not followed"
    )
    dangling = files.check_link(str(root / "snapshots" / "dangling.yaml"), confinement)
    assert isinstance(dangling, files.Refused)
    assert str(dangling) == "cannot read file: No such file or directory"


def test_a_walk_is_sorted_skips_hidden_folders_and_stays_in_its_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    top = root / "snapshots"
    for folder in ("b", "a", ".hidden", "a/deep"):
        (top / folder).mkdir(parents=True)
    for name in ("b/2.yaml", "a/1.yaml", "a/deep/3.yaml", ".hidden/4.yaml", "z.yaml", "a/n.txt"):
        (top / name).write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.yaml").write_text("x")
    os.symlink(tmp_path / "outside", top / "escape")
    os.symlink(top / "a", top / "again")  # the same folder twice: walked once
    os.symlink(top, top / "a" / "loop")  # a loop: ends
    problems: list[tuple[Path, str]] = []
    found = list(
        files.walk(
            top,
            os.path.realpath(root),
            lambda name: name.endswith(".yaml"),
            lambda path, message: problems.append((path, message)),
        )
    )
    # Each folder's files in name order, then its subfolders in name order.
    assert [path.relative_to(top).as_posix() for path, _ in found] == [
        "z.yaml",
        "a/1.yaml",
        "a/deep/3.yaml",
        "b/2.yaml",
    ]
    assert all(real == os.path.realpath(path) for path, real in found)
    assert problems == [
        (
            top / "escape",
            f"symbolic link leads outside the repository (to {(tmp_path / 'outside').resolve()})"
            ": not followed",
        )
    ]


# -- writing ---------------------------------------------------------------------------


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    target.chmod(0o640)
    files.atomic_write(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert tmp_files(tmp_path) == []


def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        files.atomic_write(tmp_path / "deep" / "new.txt", b"\x00bytes")
    finally:
        os.umask(previous)
    written = tmp_path / "deep" / "new.txt"
    assert written.read_bytes() == b"\x00bytes"
    assert written.stat().st_mode & 0o777 == 0o640


def test_atomic_write_refuses_a_symlink_and_leaves_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("precious")
    os.symlink(real, tmp_path / "link.txt")
    with pytest.raises(files.Refused, match="symbolic link"):
        files.atomic_write(tmp_path / "link.txt", "evil")
    assert real.read_text() == "precious"
    assert (tmp_path / "link.txt").is_symlink()
    assert tmp_files(tmp_path) == []


def test_atomic_write_refuses_a_link_even_to_nowhere_and_a_folder(tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.txt")
    message = refusal(lambda: files.atomic_write(tmp_path / "dangling.txt", "x", overwrite=False))
    assert message == "it is a symbolic link: refused (neither replaced nor written through)"
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "folder").mkdir()
    assert refusal(lambda: files.atomic_write(tmp_path / "folder", "x")) == (
        "it is a directory, not a regular file"
    )
    assert tmp_files(tmp_path) == []


def test_atomic_write_without_overwrite_refuses_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(files.Refused, match="already exists"):
        files.atomic_write(target, "new", overwrite=False)
    assert target.read_text() == "old"
    files.atomic_write(tmp_path / "g.txt", "new", overwrite=False)
    assert (tmp_path / "g.txt").read_text() == "new"
    assert tmp_files(tmp_path) == []


def test_atomic_write_with_expect_refuses_a_changed_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    _, state = files.read_with_state(target, 1000)
    target.write_text("edit")  # same size: only the content (and maybe mtime) tells
    with pytest.raises(files.Refused, match="changed since it was read"):
        files.atomic_write(target, "new", expect=state)
    assert target.read_text() == "edit"
    _, state = files.read_with_state(target, 1000)
    files.atomic_write(target, "new", expect=state)
    assert target.read_text() == "new"


def test_atomic_write_with_expect_refuses_a_removed_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    _, state = files.read_with_state(target, 1000)
    target.unlink()
    assert refusal(lambda: files.atomic_write(target, "new", expect=state)) == (
        "it was removed since it was read: not written"
    )
    assert not target.exists()


def test_reading_for_a_later_write_refuses_a_link(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("x")
    os.symlink("real.yaml", tmp_path / "link.yaml")
    assert refusal(lambda: files.read_with_state(tmp_path / "link.yaml", 100)) == (
        "it is a symbolic link: refused (neither replaced nor written through)"
    )


def test_written_text_is_masked_and_bytes_are_written_as_given(tmp_path: Path) -> None:
    Credentials(KEY, "files-app-key-0000000000000000")
    files.atomic_write(tmp_path / "a.txt", f"name: {KEY}\n")
    assert (tmp_path / "a.txt").read_text() == "name: ***\n"
    files.atomic_write(tmp_path / "b.bin", KEY.encode())
    assert (tmp_path / "b.bin").read_bytes() == KEY.encode()


def test_a_path_is_shown_relative_to_the_cwd_when_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert files.display_path(tmp_path / "snapshots" / "a.yaml") == "snapshots/a.yaml"
    assert files.display_path("snapshots/../a.yaml") == "a.yaml"
    assert files.display_path(tmp_path) == "."
    assert files.display_path("/elsewhere/a.yaml") == "/elsewhere/a.yaml"
    sibling = f"{tmp_path}-other/a.yaml"
    assert files.display_path(sibling) == sibling
