"""On a terminal, `plan` and `apply` say what is happening: a live line on stderr naming the
phase with its count (`listing views N/M`, `applying N/M`), then a line per operation like
Terraform's. `--no-color` and NO_COLOR give the same words without a single ESC byte; in CI
or through a pipe there is no live line at all, and the operation lines remain.

`reconciler` runs as a real process whose stdout and stderr are a pseudo-terminal, against
a real emulator process.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from support.processes import RECONCILER, env_for, on_terminal, running_emulator

pytestmark = pytest.mark.slow

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
#: A redraw of the live line: carriage return, the text, then the erase (an escape code, or
#: spaces without escapes).
LIVE = re.compile(r"\r(listing views|applying) \[[#.]{20}\] (\d+)/(\d+)")


def write_repository(root: Path) -> None:
    def entry(name: str, start: int) -> dict[str, object]:
        return {"snapshot_name": name, "device_type": "desktop", "event_id": "e", "start": start}

    views = {"/checkout": [entry(f"new-{i}", 1) for i in range(3)], "/home": [entry("keep", 2)]}
    (root / "snapshots").mkdir()
    document = {"application_id": APP, "views": views}
    (root / "snapshots" / "shop.yaml").write_text(json.dumps(document, indent=2))


def seed(url: str) -> None:
    """`keep` with another start (a patch), `gone` not declared (a delete)."""
    attributes = {
        "application_id": APP,
        "device_type": "desktop",
        "event_id": "e",
        "is_device_type_selected_by_user": False,
    }
    data = [
        {**attributes, "view_name": "/home", "snapshot_name": "keep", "start": 1},
        {**attributes, "view_name": "/home", "snapshot_name": "gone", "start": 1},
    ]
    response = httpx.post(f"{url}/_emulator/snapshots", json={"data": data})
    assert response.status_code == 201, response.text


def terminal_env(url: str, **extra: str) -> dict[str, str]:
    """A person's terminal: not CI, a terminal that takes escape codes, colours allowed."""
    env = {k: v for k, v in env_for(url).items() if k not in ("CI", "NO_COLOR", "TERM")}
    return {**env, "TERM": "xterm-256color", **extra}


def operation_lines(screen: str) -> list[str]:
    """The lines per operation, colours and erases taken out (the terminal ends each with
    CR LF)."""
    text = re.sub(r"\x1b\[[0-9;]*[mK]", "", screen)
    return [
        line.split("\r")[-1]
        for line in text.split("\r\n")
        if re.match(r"[-+~!=] (created|patched|deleted|failed|skipped) ", line.split("\r")[-1])
    ]


def assert_applied(code: int, screen: str) -> None:
    assert code == 0, screen
    draws = LIVE.findall(screen)
    assert ("listing views", "0", "2") in draws  # before the plan: both views
    applying = [(int(done), int(total)) for phase, done, total in draws if phase == "applying"]
    assert applying == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    lines = operation_lines(screen)
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["+", "created"],
        ["+", "created"],
        ["+", "created"],
        ["~", "patched"],
        ["-", "deleted"],
    ]
    for line in lines:
        assert re.fullmatch(
            r'. \w+ /\w+ desktop "[-\w]+" \(application [-0-9a-f]+\) \[id=[-0-9a-f]+\] \d+\.\ds',
            line,
        ), line
    assert "Apply: 3 created, 1 patched, 1 deleted, 0 failed, 0 skipped.\r\n" in screen
    assert screen.endswith("Converged.\r\n")


def test_apply_on_a_terminal_names_its_phases_counts_and_each_operation(tmp_path: Path) -> None:
    write_repository(tmp_path)
    with running_emulator() as url:
        seed(url)
        code, screen = on_terminal(
            ["apply", "--auto-approve", "--force", "--parallelism", "1"],
            tmp_path,
            terminal_env(url),
        )
    assert_applied(code, screen)
    assert "\x1b[K" in screen  # the live line erases with an escape code
    assert "\x1b[32m\x1b[1m+\x1b[0m created" in screen  # a create's sign is green


@pytest.mark.parametrize(
    ("flag", "extra"), [(["--no-color"], {}), ([], {"NO_COLOR": "1"})], ids=["flag", "env"]
)
def test_no_color_gives_the_same_words_without_an_escape_byte(
    tmp_path: Path, flag: list[str], extra: dict[str, str]
) -> None:
    write_repository(tmp_path)
    with running_emulator() as url:
        seed(url)
        code, screen = on_terminal(
            ["apply", "--auto-approve", "--force", "--parallelism", "1", *flag],
            tmp_path,
            terminal_env(url, **extra),
        )
    assert "\x1b" not in screen
    assert_applied(code, screen)


def test_plan_on_a_terminal_shows_listing_plain_with_no_color_none_in_ci_nor_a_pipe(
    tmp_path: Path,
) -> None:
    write_repository(tmp_path)
    with running_emulator() as url:
        code, screen = on_terminal(["plan"], tmp_path, terminal_env(url))
        plain_code, plain = on_terminal(["plan", "--no-color"], tmp_path, terminal_env(url))
        in_ci_code, in_ci = on_terminal(["plan"], tmp_path, terminal_env(url, CI="true"))
        piped = subprocess.run(
            [*RECONCILER, "apply", "--auto-approve"],
            cwd=tmp_path,
            env=terminal_env(url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert (code, plain_code, in_ci_code) == (0, 0, 0)
    assert ("listing views", "0", "2") in LIVE.findall(screen)
    assert ("listing views", "0", "2") in LIVE.findall(plain)
    assert "\x1b" not in plain
    assert plain.endswith("\nPlan: 4 to create, 0 to patch, 0 to delete.\r\n")
    assert screen.endswith("\x1b[1mPlan: 4 to create, 0 to patch, 0 to delete.\x1b[0m\r\n")
    assert not LIVE.findall(in_ci)
    assert in_ci.endswith("\x1b[1mPlan: 4 to create, 0 to patch, 0 to delete.\x1b[0m\r\n")
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stdout + piped.stderr
    assert len([line for line in piped.stdout.splitlines() if line.startswith("+ created ")]) == 4
