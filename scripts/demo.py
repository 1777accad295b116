"""`make demo`: the whole loop against a local emulator, as a user would type it.

Starts `reconciler emulator` on a free local port, then runs validate, plan, apply and plan
again (which must say "No changes."), and stops the emulator whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECONCILER = [sys.executable, "-m", "reconciler"]


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*RECONCILER, "emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    url = first.rsplit(" ", 1)[-1]
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        raise SystemExit(f"demo: the emulator did not start (it said {first!r})")
    return process, url


def step(args: list[str], env: dict[str, str], expect: int = 0) -> None:
    print(f"\n$ reconciler {' '.join(args)}", flush=True)
    code = subprocess.call([*RECONCILER, *args], env=env, cwd=ROOT)
    if code != expect:
        raise SystemExit(f"demo: `reconciler {' '.join(args)}` exited {code}, expected {expect}")


def main() -> int:
    emulator, url = start_emulator()
    print(f"Emulator running at {url} (demo keys; nothing leaves this machine)")
    env = {
        **os.environ,
        "DD_API_KEY": "b7379f996ee78a9f7f02224aea1019c2",
        "DD_APP_KEY": "5d29e700e7ce64ba8b9fc819393ad4858ae8715b",
        "RECONCILER_API_URL": url,
        "NO_COLOR": "1",
    }
    try:
        step(["validate"], env)
        step(["plan", "--detailed-exitcode"], env, expect=2)
        step(["apply", "--auto-approve"], env)
        step(["plan", "--detailed-exitcode"], env, expect=0)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print("\nDemo finished: the emulator was stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
