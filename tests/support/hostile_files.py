"""Hostile snapshot files, one builder each: it writes the file (or folder) into `root` and
returns the path to pass to `reconciler validate`. The tests (tests/hardening/
test_hostile_input.py) assert how each is refused; bench/hostile.py measures what refusing
them costs. Plain standard library, so that the bench can import it outside pytest."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
HEADER = f"application_id: {APP}\nviews:\n"
#: A file that a YAML tag executing code would create in `root`.
MARKER = "PWNED-MARKER"


def alias_bomb(root: Path) -> str:
    """The billion laughs: 9 levels of 9 aliases, 9**9 = 387 million nodes if expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous, current = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{current}: &{current} [{', '.join([f'*{previous}'] * 9)}]")
    (root / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return "bomb.yaml"


def deep_flow(root: Path) -> str:
    (root / "deep.yaml").write_text(HEADER + "  /a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    return "deep.yaml"


def deep_block(root: Path) -> str:
    (root / "deep.yaml").write_text("".join(" " * n + f"k{n}:\n" for n in range(500)))
    return "deep.yaml"


def fifty_megabytes(root: Path) -> str:
    with (root / "big.yaml").open("w") as stream:
        stream.write(HEADER + "  /a: []\npad: '")
        chunk = "x" * (1 << 20)  # in chunks: a forked child's peak counts this process's
        for _ in range(50):
            stream.write(chunk)
        stream.write("'\n")
    return "big.yaml"


def not_utf8(root: Path) -> str:
    (root / "latin1.yaml").write_bytes(HEADER.encode() + b"  /caf\xe9: []\n")
    return "latin1.yaml"


def symlink_loop(root: Path) -> str:
    os.symlink("loop.yaml", root / "loop.yaml")
    return "loop.yaml"


def symlink_loop_in_folder(root: Path) -> str:
    (root / "snapshots").mkdir()
    os.symlink("loop.yaml", root / "snapshots" / "loop.yaml")
    os.symlink("..", root / "snapshots" / "up")  # a directory loop
    return "snapshots"


def link_to_filesystem_root(root: Path) -> str:
    (root / "snapshots").mkdir()
    os.symlink("/", root / "snapshots" / "root")
    return "snapshots"


def fifo(root: Path) -> str:
    os.mkfifo(root / "pipe.yaml")
    return "pipe.yaml"


def python_tag(tag: str) -> Callable[[Path], str]:
    def write(root: Path) -> str:
        command = f"touch {root / MARKER}"
        (root / "tag.yaml").write_text(
            f"application_id: {tag} [{json.dumps(command)}]\nviews: {{}}\n"
            f"other: !!python/name:os.system\n"
        )
        return "tag.yaml"

    return write


def huge_integer(root: Path) -> str:
    snapshot = "    - {snapshot_name: a, device_type: desktop, event_id: e, start: %s}\n"
    (root / "int.yaml").write_text(HEADER + "  /a:\n" + snapshot % ("9" * 100_000))
    return "int.yaml"


def nul_byte(root: Path) -> str:
    (root / "nul.yaml").write_bytes(HEADER.encode() + b"  /a\x00b: []\n")
    return "nul.yaml"


def long_scalar(root: Path) -> str:
    (root / "long.yaml").write_text(f"application_id: {'n' * (1 << 20)}\nviews: {{}}\n")
    return "long.yaml"


def long_key(root: Path) -> str:
    (root / "long.yaml").write_text(HEADER + f"  /{'v' * (1 << 20)}: []\n")
    return "long.yaml"
