"""Running action.yml's steps locally, as the GitHub runner would run what it can here.

`run:` steps are executed with bash the way the runner does (`bash --noprofile --norc -eo
pipefail`), with the environment GitHub sets (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_REPOSITORY) and each step's `env:` expressions
resolved. `uses:` steps cannot run without GitHub: setup-python is replaced by the test's
interpreter on PATH, upload-artifact is recorded (its resolved `with:`) for the test to check.
`if:` conditions are evaluated with a small translation of GitHub's expression syntax
(`steps.<id>.outcome` included).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_REFERENCE = re.compile(rf"\b(inputs|github|steps)((?:\.{_NAME})+)")


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    return action


@dataclass
class StepResult:
    name: str
    ran: bool
    id: str = ""
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str = ""
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    steps: list[StepResult]
    summary: str

    def step(self, name_start: str) -> StepResult:
        (found,) = [s for s in self.steps if s.name.startswith(name_start)]
        return found

    def failures(self) -> list[tuple[str, int, str]]:
        """(name, exit code, stderr) of each step that ran and failed."""
        return [(s.name, s.code, s.stderr) for s in self.steps if s.ran and s.code != 0]

    def outputs(self, action: dict[str, Any]) -> dict[str, str]:
        context = self._context(action)
        return {name: resolve(spec["value"], context) for name, spec in action["outputs"].items()}

    def _context(self, action: dict[str, Any]) -> dict[str, Any]:
        return {"steps": {s.id: {"outputs": s.outputs} for s in self.steps if s.id}}


def step_name(step: dict[str, Any]) -> str:
    return str(step.get("name") or step.get("id") or step.get("uses"))


def lookup(path: str, context: dict[str, Any]) -> str:
    value: Any = context
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if value is None else str(value)


def resolve(text: str, context: dict[str, Any]) -> str:
    """`${{ inputs.x }}`-style expressions in a value; only plain references are allowed."""

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        if not re.fullmatch(rf"(inputs|github|steps)(\.{_NAME})+", inner):
            raise AssertionError(f"not a plain reference: {inner!r}")
        return lookup(inner, context)

    return EXPRESSION.sub(one, str(text))


def condition(text: str, context: dict[str, Any], cancelled: bool = False) -> bool:
    """GitHub's `if:` for the operators the action uses: ! && || == != ( ) '...'."""
    inner = EXPRESSION.fullmatch(text.strip())
    source = inner.group(1) if inner else text
    source = source.replace("!cancelled()", "(not CANCELLED)")
    source = _REFERENCE.sub(lambda m: repr(lookup(m.group(1) + m.group(2), context)), source)
    source = source.replace("&&", " and ").replace("||", " or ")
    if re.search(r"!(?!=)", source):
        raise AssertionError(f"unsupported operator in {text!r}")
    result = eval(source, {"__builtins__": {}}, {"CANCELLED": cancelled})  # noqa: S307
    return bool(result)


def run_action(
    inputs: dict[str, str],
    *,
    cwd: Path,
    runner_temp: Path,
    env: dict[str, str],
    github: dict[str, Any],
    skip_install: dict[str, str] | None = None,
) -> Run:
    """Run the action's steps in order. With `skip_install` (the install step's outputs from an
    earlier run), the install step is not repeated."""
    action = load_action()
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(inputs) - set(defaults)
    assert not unknown, f"no such inputs: {unknown}"
    values = {name: resolve(text, {"github": github}) for name, text in defaults.items()}
    values.update(inputs)
    context: dict[str, Any] = {"inputs": values, "github": github, "steps": {}}
    runner_temp.mkdir(parents=True, exist_ok=True)
    output_file = runner_temp / "github_output"
    summary_file = runner_temp / "step_summary"
    summary_file.touch()
    base_env = {
        **env,
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_REPOSITORY": str(github.get("repository", "")),
        "GITHUB_SHA": str(github.get("sha", "")),
        "RUNNER_TEMP": str(runner_temp),
        "CI": "true",
    }
    results: list[StepResult] = []
    failed = False
    for step in action["runs"]["steps"]:
        name = resolve(step_name(step), context)
        if "if" in step:  # without a status function GitHub adds `success() &&`
            status = re.search(r"\b(always|cancelled|failure|success)\(", step["if"])
            ok = condition(step["if"], context) and (bool(status) or not failed)
        else:
            ok = not failed
        result = StepResult(name, ran=ok, id=str(step.get("id", "")))
        if ok and step.get("id") == "install" and skip_install is not None:
            result.outputs = dict(skip_install)
        elif ok and "uses" in step:
            result.uses = step["uses"]
            result.with_ = {k: resolve(v, context) for k, v in (step.get("with") or {}).items()}
        elif ok:
            step_env = {k: resolve(v, context) for k, v in (step.get("env") or {}).items()}
            folder = cwd / resolve(step.get("working-directory", "."), context)
            output_file.write_text("", encoding="utf-8")
            script = runner_temp / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=folder,
                env={**base_env, **step_env},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            result.code, result.stdout, result.stderr = done.returncode, done.stdout, done.stderr
            result.outputs = read_outputs(output_file)
            failed = failed or done.returncode != 0
        if step.get("id"):
            outcome = "skipped" if not ok else "failure" if result.code else "success"
            context["steps"][step["id"]] = {"outputs": result.outputs, "outcome": outcome}
        results.append(result)
    return Run(results, summary_file.read_text(encoding="utf-8"))


def read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        outputs[name] = value
    return outputs


def python_on_path(folder: Path, python: str) -> str:
    """A PATH whose `python` is the given interpreter (what setup-python provides)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "python"
    if not link.exists():
        link.symlink_to(python)
    return os.pathsep.join([str(folder), os.environ.get("PATH", "")])
