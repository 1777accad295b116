"""README.md and the pages of docs/ against the real CLI.

Every `reconciler ...` command shown in a fenced shell block of a page must exist with the
options it uses (introspection of the click commands), and runs for real against an
emulator:
- the quick start against your org (docs/getting-started.md), in order, in an empty folder,
  with the exit codes its comments state, against an emulator that already holds the
  example snapshots of `snapshots/`;
- every other command, in page order, in a folder holding a copy of `snapshots/` that is in
  sync with the emulator, where each must exit as its comment says (`reconciler emulator`
  is started on a free port and stopped);
- the shell completion lines, which must print a completion function.
The README's quick start against the emulator runs verbatim in test_quickstart.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.cli.main import cli
from reconciler.core import exitcodes
from reconciler.emulator import serve_in_thread
from support.docs_support import (
    COMPLETE_VAR,
    SHELL_LANGUAGES,
    Block,
    CommandLine,
    blocks,
    check,
    find_in_shell,
)
from support.processes import RECONCILER, env_for, reconciler

#: Runs the docs' commands as real processes: run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: The pages, in the order their commands run: the README, then docs/ by name.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
QUICKSTART_MARKER = "<!-- quickstart -->"
#: Blocks of the two-org walk-through: run against two emulators (`test_two_orgs_*`).
TWO_ORGS_MARKER = "<!-- two-orgs -->"
#: The README's quick start against the emulator: run verbatim by test_quickstart.py.
EMULATOR_QUICKSTART_MARKER = "<!-- quickstart-emulator -->"
#: The seed file example of docs/emulator.md: the file its `--seed` commands read.
SEED_FILE_MARKER = "<!-- seed-file -->"


def page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


ALL_BLOCKS = [
    block for page in PAGES for block in blocks(page.read_text(encoding="utf-8"), page_name(page))
]
SHELL_BLOCKS = [b for b in ALL_BLOCKS if b.language in SHELL_LANGUAGES]


def commands(block: Block) -> list[CommandLine]:
    return list(find_in_shell(block.text, block.page, block.first_line))


ALL_COMMANDS = [c for b in SHELL_BLOCKS for c in commands(b)]
QUICKSTART = [b for b in ALL_BLOCKS if b.marker == QUICKSTART_MARKER]
RUN_ELSEWHERE = (QUICKSTART_MARKER, TWO_ORGS_MARKER, EMULATOR_QUICKSTART_MARKER)
OTHER_COMMANDS = [
    c
    for b in SHELL_BLOCKS
    if b.marker not in RUN_ELSEWHERE
    for c in commands(b)
    if COMPLETE_VAR not in dict(c.env)
]


def expected_exit(command: CommandLine) -> int:
    match = re.match(r"exit (\d+)", command.comment)
    return int(match.group(1)) if match else 0


# -- the commands exist --------------------------------------------------------------------


def test_the_docs_have_commands_and_one_quickstart_per_kind() -> None:
    assert len(QUICKSTART) == 1
    assert len([b for b in ALL_BLOCKS if b.marker == EMULATOR_QUICKSTART_MARKER]) == 2
    assert len(ALL_COMMANDS) >= 30
    assert {b.page for b in SHELL_BLOCKS} >= {"README.md", "docs/commands.md", "docs/emulator.md"}


def test_no_reconciler_line_outside_shell_blocks() -> None:
    """A command in a block of another language would escape these tests."""
    for block in ALL_BLOCKS:
        if block.language in SHELL_LANGUAGES:
            continue
        for line in block.text.splitlines():
            assert not re.match(r"\s*(\$ )?reconciler ", line), (block.page, block.first_line)


def test_every_line_starting_with_reconciler_is_checked() -> None:
    checked = {c.where for c in ALL_COMMANDS}
    for block in ALL_BLOCKS:
        for offset, line in enumerate(block.text.splitlines()):
            if re.match(r"\s*(\$ )?reconciler ", line):
                assert f"{block.page}:{block.first_line + offset}" in checked, line


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=str)
def test_doc_command_exists(command: CommandLine) -> None:
    assert check(command) == []


def test_the_docs_show_every_subcommand() -> None:
    shown = {c.args[0] for c in ALL_COMMANDS if c.args}
    assert set(cli.commands) <= shown


def test_the_exit_codes_the_docs_state_are_the_cli_s(tmp_path: Path) -> None:
    """The numbers in the exit-code sentences of docs/commands.md are the ones the code
    defines, and validate returns them (plan's 0 and 2 are run by the quick-start tests;
    130 and 143 by the e2e signal tests)."""
    text = " ".join((ROOT / "docs" / "commands.md").read_text(encoding="utf-8").split())
    stated = {
        "valid": r"Exit (\d+) valid, (\d+) invalid",
        "changes": r"(\d+): changes with `--detailed-exitcode`",
        "signals": r"(\d+) interrupted by Ctrl-C, (\d+) stopped by SIGTERM",
    }
    found = {name: re.search(pattern, text) for name, pattern in stated.items()}
    assert all(found.values()), {name: bool(match) for name, match in found.items()}
    assert found["valid"] is not None
    assert found["changes"] is not None
    assert found["signals"] is not None
    valid, invalid = (int(code) for code in found["valid"].groups())
    assert (valid, invalid) == (exitcodes.OK, exitcodes.ERROR)
    assert int(found["changes"].group(1)) == exitcodes.CHANGES
    interrupted, terminated = (int(code) for code in found["signals"].groups())
    assert (interrupted, terminated) == (exitcodes.INTERRUPTED, exitcodes.TERMINATED)
    shutil.copytree(ROOT / "snapshots", tmp_path / "snapshots")
    assert reconciler(["validate"], tmp_path, dict(os.environ)).returncode == valid
    (tmp_path / "snapshots" / "bad.yaml").write_text("application_id: 1\nviews: {}\n")
    assert reconciler(["validate"], tmp_path, dict(os.environ)).returncode == invalid


# -- the quick start runs ------------------------------------------------------------------


def apply_example(url: str, folder: Path) -> None:
    """The emulator holds the repository's example snapshots (a Datadog org in use)."""
    shutil.copytree(ROOT / "snapshots", folder / "snapshots")
    done = reconciler(["apply", "--auto-approve"], folder, env_for(url))
    assert done.returncode == 0, done.stderr
    assert "Converged." in done.stdout


def edit_exported_file(folder: Path) -> None:
    """The quick start's "edit" step: change a start, rename a snapshot."""
    path = folder / "snapshots" / "storefront.yaml"
    text = path.read_text(encoding="utf-8")
    assert "start: 1500" in text
    assert "Home, tablet promo strip" in text
    text = text.replace("start: 1500", "start: 1600", 1)
    path.write_text(text.replace("Home, tablet promo strip", "Home, tablet banner"), "utf-8")


def test_quickstart_runs_with_the_stated_exit_codes(tmp_path: Path) -> None:
    (block,) = QUICKSTART
    with serve_in_thread() as url:
        apply_example(url, tmp_path / "existing")
        folder = tmp_path / "new"
        folder.mkdir()
        env = env_for(url)
        ran: list[str] = []
        for number, line in enumerate(block.text.splitlines(), start=block.first_line):
            stripped = line.strip()
            if stripped.startswith("# edit"):
                edit_exported_file(folder)
                continue
            found = list(find_in_shell(line, block.page, number))
            if not found:
                run_setup_line(stripped, folder, env)
                continue
            (command,) = found
            done = reconciler(list(command.args), folder, env)
            expected = expected_exit(command)
            assert done.returncode == expected, (str(command), done.stdout, done.stderr)
            ran.append(" ".join(command.args))
            if "stale" in command.comment:
                assert "saved plan is stale" in done.stderr
            if "Converged" in command.comment:
                assert "Converged." in done.stdout
        assert ran[0].startswith("export ")
        assert len(ran) == 8


def run_setup_line(line: str, folder: Path, env: dict[str, str]) -> None:
    """The non-reconciler lines of the quick start: `export NAME=value`, `mkdir -p`."""
    code = line.split(" #", 1)[0].strip()
    if not code:
        return
    words = shlex.split(code)
    if words[0] == "export":
        for word in words[1:]:
            name, _, value = word.partition("=")
            if name not in ("DD_API_KEY", "DD_APP_KEY"):  # the test keys stay
                env[name] = value
    elif words[:2] == ["mkdir", "-p"]:
        for name in words[2:]:
            (folder / name).mkdir(parents=True, exist_ok=True)
    else:
        pytest.fail(f"the quick start has a line this test cannot run: {line!r}")


# -- every other command runs ----------------------------------------------------------------


def wait_until_serving(url: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_emulator/stats", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.05)
    return False


def run_emulator(command: CommandLine, folder: Path) -> None:
    """Start `reconciler emulator` with the page's options on a free port, then stop it."""
    args = list(command.args)
    if "--port" in args:
        args[args.index("--port") + 1] = "0"
    process = subprocess.Popen(
        [*RECONCILER, *args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        # Stop it only once it serves: the URL is printed before its signal handlers are set.
        assert wait_until_serving(match.group(0)), "the emulator does not answer"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_every_other_command_of_the_docs_runs(tmp_path: Path) -> None:
    (seed_file,) = [b for b in ALL_BLOCKS if b.marker == SEED_FILE_MARKER]
    with serve_in_thread() as url:
        folder = tmp_path / "repo"
        folder.mkdir()
        apply_example(url, folder)
        (folder / "snapshots.jsonl").write_text(seed_file.text + "\n", encoding="utf-8")
        env = env_for(url)
        for command in OTHER_COMMANDS:
            if command.args[:1] == ("emulator",):
                run_emulator(command, folder)
                continue
            done = reconciler(list(command.args), folder, {**env, **dict(command.env)} | env)
            expected = expected_exit(command)
            assert done.returncode == expected, (str(command), done.stdout, done.stderr)


# -- shell completion ----------------------------------------------------------------------


COMPLETION_LINES = [
    line for b in SHELL_BLOCKS for line in b.text.splitlines() if COMPLETE_VAR in line
]


def test_docs_show_completion_for_bash_zsh_and_fish() -> None:
    pattern = re.compile(COMPLETE_VAR + r"=(\w+)_source")
    shells = {m.group(1) for line in COMPLETION_LINES if (m := pattern.search(line))}
    assert shells == {"bash", "zsh", "fish"}


@pytest.mark.parametrize("line", COMPLETION_LINES)
def test_completion_script_generation(line: str) -> None:
    """A completion command of the docs prints a completion function, with our entry point."""
    match = re.search(COMPLETE_VAR + r"=(\w+) reconciler", line)
    assert match, line
    instruction = match.group(1)
    executable = shutil.which("reconciler", path=os.path.dirname(sys.executable))
    assert executable, "the reconciler entry point is not installed in this venv"
    env = {**os.environ, COMPLETE_VAR: instruction}
    done = subprocess.run(
        [executable], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "_reconciler_completion" in done.stdout
    if instruction == "bash_source":
        assert "_reconciler_completion() {" in done.stdout
        assert "complete -o nosort -F _reconciler_completion reconciler" in done.stdout


def test_completion_completes_subcommands_and_format_values() -> None:
    executable = shutil.which("reconciler", path=os.path.dirname(sys.executable))
    assert executable
    for words, cword, expected in (
        ("reconciler pl", "1", "plain,plan"),
        ("reconciler plan --format ", "3", "plain,markdown"),
    ):
        env = {
            **os.environ,
            COMPLETE_VAR: "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": cword,
        }
        done = subprocess.run(
            [executable], env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0
        assert expected in done.stdout.splitlines()


# -- the example files of the docs are valid ----------------------------------------------------


def test_example_files_of_the_docs_validate(tmp_path: Path) -> None:
    """The file-format and configuration examples pass `reconciler validate`."""
    yaml_blocks = [b for b in ALL_BLOCKS if b.language == "yaml"]
    snapshots = [b for b in yaml_blocks if "$schema=../schemas/snapshots" in b.text]
    configs = [b for b in yaml_blocks if "$schema=schemas/config" in b.text]
    assert len(snapshots) == 1
    assert len(configs) == 1
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "example.yaml").write_text(snapshots[0].text, encoding="utf-8")
    (tmp_path / "reconciler.yaml").write_text(configs[0].text, encoding="utf-8")
    done = reconciler(["validate"], tmp_path, env_for("http://127.0.0.1:9"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: 1 file, 1 snapshot, 2 views, config reconciler.yaml." in done.stdout


# -- the two-org walk-through runs against two emulators ---------------------------------------


def test_two_orgs_walkthrough_runs_with_the_stated_exit_codes(tmp_path: Path) -> None:
    """The environments example of docs/environments.md, its targets pointed at two emulators: every
    command exits as its comment says, both orgs converge, and each received only its own
    keys."""
    from reconciler.emulator.stats import key_digest

    config, shell = [b for b in ALL_BLOCKS if b.marker == TWO_ORGS_MARKER]
    snapshots_file = next(b for b in ALL_BLOCKS if b.text.startswith("# snapshots/storefront"))
    with serve_in_thread() as staging, serve_in_thread() as production:
        text = config.text.replace("http://127.0.0.1:8127", staging)
        assert "site: datadoghq.eu" in text
        text = text.replace("site: datadoghq.eu", f"api_url: {production}")
        (tmp_path / "reconciler.yaml").write_text(text, encoding="utf-8")
        (tmp_path / "snapshots").mkdir()
        (tmp_path / "snapshots" / "storefront.yaml").write_text(snapshots_file.text, "utf-8")
        env = {
            k: v for k, v in env_for(staging).items() if not k.startswith(("DD_", "RECONCILER_"))
        }
        ran = []
        for number, line in enumerate(shell.text.splitlines(), start=shell.first_line):
            found = list(find_in_shell(line, shell.page, number))
            if not found:
                run_setup_line(line.strip(), tmp_path, env)
                continue
            (command,) = found
            done = reconciler(list(command.args), tmp_path, env)
            assert done.returncode == expected_exit(command), (
                str(command),
                done.stdout,
                done.stderr,
            )
            ran.append(command.args[0])
        assert ran == ["validate", "plan", "apply", "plan", "plan", "apply"]
        for url, name in ((staging, "STAGING"), (production, "PRODUCTION")):
            data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
            assert [d["attributes"]["snapshot_name"] for d in data] == ["Home, desktop hero"]
            seen = set(httpx.get(f"{url}/_emulator/stats").json()["keys_sha256"])
            own = {key_digest(env[f"DD_API_KEY_{name}"]), key_digest(env[f"DD_APP_KEY_{name}"])}
            assert seen == own
