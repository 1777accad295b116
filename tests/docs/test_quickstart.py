"""The README's quick start against the emulator, run as it is written.

The first block (the emulator) is started as a process; the second block runs in one bash
process, line after line, each line exactly as written, as someone pasting it would; each
line's exit code, stdout and stderr are kept apart by wrapping it in `{ LINE\\n}` (the line's
own text is unchanged; the braces run it in the same shell, so `cd` and `export` carry on).
One thing is changed: the emulator listens on a free port (`--port 0`) and its URL replaces
`http://127.0.0.1:8126` in the second block, so that test runs never collide.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.docs_support import Block, blocks, find_in_shell, split_comment
from support.processes import clean_env

#: Starts an emulator and a shell: run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = "<!-- quickstart-emulator -->"
DOC_URL = "http://127.0.0.1:8126"
UUID = re.compile(r"id=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BIN = os.path.dirname(sys.executable)


def readme_blocks() -> list[Block]:
    return blocks(README.read_text(encoding="utf-8"), "README.md")


def quickstart() -> tuple[Block, Block]:
    emulator, session = [b for b in readme_blocks() if b.marker == MARKER]
    return emulator, session


def sample_plan() -> str:
    (block,) = [b for b in readme_blocks() if b.marker == "<!-- sample-plan -->"]
    return UUID.sub("id=ID", block.text.strip())


def expected_exit(comment: str) -> int:
    match = re.match(r"exit (\d+)", comment)
    return int(match.group(1)) if match else 0


def session_lines(block: Block) -> list[tuple[int, str]]:
    """(README line number, text) of each line of the block that runs something."""
    found = []
    for offset, line in enumerate(block.text.splitlines()):
        code, _ = split_comment(line)
        if code.strip():
            found.append((block.first_line + offset, line))
    return found


def test_the_quick_start_is_two_plain_shell_blocks() -> None:
    emulator, session = quickstart()
    assert (emulator.language, session.language) == ("sh", "sh")
    (line,) = emulator.text.splitlines()
    assert line.startswith("reconciler emulator --demo --port 8126")
    for _, line in session_lines(session):
        # A line the wrapper could not keep whole.
        assert not line.rstrip().endswith("\\"), line
        assert "<<" not in line, line
    assert f"RECONCILER_API_URL={DOC_URL}" in session.text


def start_emulator(
    block: Block, folder: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    command = block.text.strip().replace("--port 8126", "--port 0")
    process = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-c", f"exec {command}"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.fullmatch(r"Emulator listening on (http://127\.0\.0\.1:\d+)\n", first)
    if match is None:
        process.kill()
        pytest.fail(f"the emulator did not start: {first!r} {process.communicate()[1]!r}")
    return process, match.group(1)


def test_the_emulator_quick_start_runs_verbatim_with_the_stated_exit_codes(
    tmp_path: Path,
) -> None:
    emulator_block, session = quickstart()
    env = {**clean_env(), "PATH": BIN + os.pathsep + os.environ["PATH"], "HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    process, url = start_emulator(emulator_block, tmp_path, env)
    try:
        lines = session_lines(session)
        out = tmp_path / "out"
        out.mkdir()
        work = tmp_path / "work"
        work.mkdir()
        script = [
            f'{{\n{line.replace(DOC_URL, url)}\n}} >"{out}/{n}.out" 2>"{out}/{n}.err"\n'
            f'echo $? >"{out}/{n}.rc"'
            for n, line in lines
        ]
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    finally:
        process.terminate()
        process.communicate(timeout=20)
    ran = 0
    for number, line in lines:
        code, comment = split_comment(line)
        rc = int((out / f"{number}.rc").read_text())
        stdout = (out / f"{number}.out").read_text(encoding="utf-8")
        stderr = (out / f"{number}.err").read_text(encoding="utf-8")
        where = f"README.md:{number}: {code}"
        assert rc == expected_exit(comment), (where, stdout, stderr)
        # What the comment quotes is what the command says.
        for quoted in re.findall(r'"([^"]+)"', comment):
            assert quoted in stdout + stderr, (where, quoted)
        # The demo keys mask nothing: no ordinary word is a piece of them.
        assert "***" not in stdout + stderr, (where, stdout, stderr)
        if list(find_in_shell(code, "README.md")) == []:
            continue
        ran += 1
        if code.split() == ["reconciler", "plan", "--out", "plan.json"]:
            # The README's sample plan is this very output.
            shown = stdout.replace(
                "Saved plan to plan.json. Apply it with: reconciler apply plan.json\n", ""
            )
            assert UUID.sub("id=ID", shown.strip()) == sample_plan()
    assert ran == 10
    exported = work / "storefront" / "snapshots" / "example.yaml"
    text = exported.read_text(encoding="utf-8")
    assert "Home, tablet banner" in text
    assert "start: 1500" not in text
