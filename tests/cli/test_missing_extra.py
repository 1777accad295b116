"""Without the emulator extra (Starlette, uvicorn): `reconciler emulator` says how to install
it, and every command's help, the emulator's included, works as before."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.cli.main import cli
from support.cli_runner import REPO

#: `python -c` running the command as if the extra were not installed: an import of either
#: package fails as a missing one does.
_WITHOUT_THE_EXTRA = (
    "import sys; sys.modules.update(starlette=None, uvicorn=None);"
    " from reconciler.__main__ import main; sys.exit(main(sys.argv[1:]))"
)
INSTALL = (
    "error: the emulator needs the emulator extra (Starlette and uvicorn), which is not"
    " installed: in a clone of heatmap-reconciler, run pip install -c constraints/dev.txt"
    " '.[emulator]'\n"
)


def without_the_extra(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_THE_EXTRA, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    "argv", [["emulator"], ["emulator", "--port", "0", "-v"], ["emulator", "--demo"]]
)
def test_the_emulator_says_how_to_install_its_extra(argv: list[str]) -> None:
    result = without_the_extra(*argv)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", INSTALL)


def test_every_help_works_without_the_extra() -> None:
    for argv in ([], *([name] for name in cli.commands)):
        result = without_the_extra(*argv, "--help")
        assert (result.returncode, result.stderr) == (0, ""), argv
        assert result.stdout.startswith(f"Usage: reconciler {' '.join(argv)}".rstrip() + " ")
    assert "emulator  Run the local Datadog API emulator" in without_the_extra("--help").stdout
