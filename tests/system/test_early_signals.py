"""A signal early in a run, as a real process: from the first thing the `reconciler` command
does, Ctrl-C or SIGTERM ends the run with "Interrupted." and 130 or 143, whether it is still
importing the command, parsing its line, reading files or waiting on the API.

(What no program can answer is a signal during the interpreter's own start, before any code
of ours runs: the tests start from the moment the process catches SIGTERM.)"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import CHILD, RECONCILER, env_for
from support.workspace import APP


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server whose connections the kernel accepts and nobody answers: a run that reaches
    the API waits there until it is signalled."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "a.yaml").write_text(
        f"application_id: {APP}\nviews:\n  /v:\n"
        "    - {snapshot_name: s, device_type: desktop, event_id: e, start: 1}\n"
    )
    return tmp_path


def started(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`reconciler ARGV`, with SIGINT as a terminal delivers it: a background job (these tests
    in one) starts with SIGINT ignored, and the command leaves it so."""
    return subprocess.Popen(
        [*RECONCILER, *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **CHILD,
    )


def catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def wait_until_it_catches_sigterm(process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not catches(process.pid, signal.SIGTERM):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "SIGTERM is never caught"
        time.sleep(0.0005)


@pytest.mark.parametrize("delay", [0, 0.01, 0.05, 0.2, 0.5])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_at_any_early_moment_says_the_run_was_interrupted(
    repository: Path, silent_url: str, sig: signal.Signals, code: int, delay: float
) -> None:
    process = started(["plan"], repository, env_for(silent_url))
    wait_until_it_catches_sigterm(process)
    time.sleep(delay)
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err.strip()) == (code, "", "Interrupted.")


@pytest.mark.parametrize(
    "argv",
    [
        ["apply", "--auto-approve"],
        ["export", "--application-id", APP, "--view", "/v"],
        ["doctor"],
    ],
)
def test_every_command_talking_to_the_api_says_it_was_interrupted(
    repository: Path, silent_url: str, argv: list[str]
) -> None:
    process = started(argv, repository, env_for(silent_url))
    wait_until_it_catches_sigterm(process)
    time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err.strip()) == (143, "", "Interrupted.")


#: `reconciler ARGV` in which the process signals itself when module NAME is first imported:
#: a signal at a known moment, whatever the machine's speed.
_SIGNALLED_AT_IMPORT = """
import os, sys

class SignalAtImport:
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), int(sys.argv[2]))
        return None

sys.meta_path.insert(0, SignalAtImport())
from reconciler.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    ("module", "stderr"),
    [
        # Importing the command (most of a start-up): nothing to finish, the process ends.
        ("reconciler.cli.main", "Interrupted.\n"),
        ("click", "Interrupted.\n"),
        # The command runs: its own handlers raise, click ends the line, guarded reports.
        ("reconciler.cli.commands.plan", "\nInterrupted.\n"),
    ],
)
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_the_command_is_imported_or_starts(
    repository: Path, silent_url: str, module: str, stderr: str, sig: signal.Signals, code: int
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SIGNALLED_AT_IMPORT, module, str(int(sig)), "plan"],
        cwd=repository,
        env=env_for(silent_url),
        capture_output=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **CHILD,
    )
    assert (result.returncode, result.stdout, result.stderr) == (code, "", stderr)


def test_a_signal_the_parent_ignores_stays_ignored(repository: Path, silent_url: str) -> None:
    """A script's background job is started with SIGINT ignored, and Python leaves it so:
    so does the command, from its first moment (SIGTERM still ends it)."""
    process = subprocess.Popen(
        [*RECONCILER, "plan"],
        cwd=repository,
        env=env_for(silent_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        **CHILD,
    )
    wait_until_it_catches_sigterm(process)
    for _ in range(20):  # while it imports the command, parses, reads files and lists
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err.strip()) == (143, "", "Interrupted.")
