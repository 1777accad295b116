"""The Dockerfile: slim base, non-root, reconciler as the exec-form entrypoint, SIGINT as
the stop signal, no keys, hashed installs. When a docker daemon and a base image are at
hand (RECONCILER_TEST_BASE_IMAGE, else python:3.12-slim if present locally), `make image`
builds it and the image runs: --version, non-root, validate, and `docker stop` during an
apply against an emulator on 127.0.0.1 ends it with exit 130 (Ctrl-C semantics)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from dist_support import ROOT

from reconciler import __version__
from reconciler.emulator import EmulatorSettings, serve_in_thread

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
IMAGE = f"heatmap-reconciler:{__version__}"


def final_stage() -> list[str]:
    instructions = [line.strip() for line in DOCKERFILE.splitlines() if line.strip()]
    instructions = [line for line in instructions if not line.startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.startswith("FROM "))
    return instructions[last_from:]


def test_slim_base_non_root_exec_entrypoint_and_stop_signal() -> None:
    assert "ARG PYTHON_IMAGE=python:3.12-slim\n" in DOCKERFILE
    stage = final_stage()
    assert stage[0] == "FROM ${PYTHON_IMAGE}"
    users = [line for line in stage if line.startswith("USER ")]
    assert users == ["USER reconciler"]
    assert 'ENTRYPOINT ["reconciler"]' in stage
    assert "STOPSIGNAL SIGINT" in stage
    # Only the virtualenv comes from the build stage (where a proxy's CA may have been).
    assert [line for line in stage if line.startswith("COPY")] == [
        "COPY --from=build /opt/reconciler /opt/reconciler"
    ]


def test_no_keys_and_only_hashed_or_local_installs() -> None:
    for line in DOCKERFILE.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert not re.search(r"KEY|TOKEN|SECRET|PASSWORD", line), line
    assert "--require-hashes --no-deps -r /tmp/install/runtime.txt" in DOCKERFILE
    assert "--no-deps --no-index" in DOCKERFILE
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert next(line for line in ignore if line and not line.startswith("#")) == "*"


def docker_base() -> str | None:
    """A base image usable here, or None (no daemon, or no base image without network)."""
    if shutil.which("docker") is None:
        return None
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        return None
    base = os.environ.get("RECONCILER_TEST_BASE_IMAGE", "python:3.12-slim")
    present = subprocess.run(["docker", "image", "inspect", base], capture_output=True, check=False)
    return base if present.returncode == 0 else None


@pytest.mark.package
def test_make_image_builds_and_the_image_runs(tmp_path: Path) -> None:
    base = docker_base()
    if base is None:
        pytest.skip("no docker daemon or no base image here (set RECONCILER_TEST_BASE_IMAGE)")
    stamp = Path(sys.prefix) / ".installed-dev"
    make = ["make", "-o", str(stamp), "image", f"VENV={sys.prefix}", f"PYTHON_IMAGE={base}"]
    ca = os.environ.get("PIP_CERT")
    if ca:
        make.append(f"PIP_CA={ca}")
    built = subprocess.run(make, cwd=ROOT, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    def docker_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "run", "--rm", *args], capture_output=True, text=True, check=False
        )

    assert docker_run(IMAGE, "--version").stdout == f"reconciler, version {__version__}\n"
    assert docker_run("--entrypoint", "id", IMAGE, "-u").stdout.strip() != "0"
    mount = f"{ROOT / 'snapshots'}:/work/snapshots:ro"
    valid = docker_run("-v", mount, IMAGE, "validate")
    assert valid.returncode == 0, valid.stderr

    with serve_in_thread(EmulatorSettings(latency_ms=300)) as url:
        name = f"reconciler-stop-test-{os.getpid()}"
        keys = [
            "-e",
            "DD_API_KEY=test-api-key-0001-0123456789abcd",
            "-e",
            "DD_APP_KEY=test-app-key-0001-0123456789abcdef012345",
        ]
        started = subprocess.run(
            ["docker", "run", "-d", "--name", name, "--network", "host", *keys,
             "-e", f"RECONCILER_API_URL={url}", "-e", "RECONCILER_PARALLELISM=1",
             "-v", mount, IMAGE, "apply", "--auto-approve"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                stats = httpx.get(f"{url}/_emulator/stats").json()
                if stats["committed"]["create"] >= 1:
                    break
                time.sleep(0.2)
            subprocess.run(["docker", "stop", "-t", "60", name], capture_output=True, check=True)
            state = subprocess.run(
                ["docker", "inspect", name, "--format", "{{json .State}}"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        assert json.loads(state.stdout)["ExitCode"] == 130, logs.stdout + logs.stderr
        assert "skipped: interrupted" in logs.stdout
