"""Where the keys go is decided by the command line and the environment (SPEC section 3).

A `reconciler.yaml` (which a pull request can edit, and CI plans pull requests with the real
keys) may name a Datadog site or a loopback `api_url`; any other host it names is refused by
every command, before any connection or name lookup, unless the environment allows it. A
target given at a higher level replaces the file's.

Commands run in-process (`cli.main`) with a transport that records every request: nothing
here reaches the network. The capture cases use a real socket server of the test's own.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.api.runtime import Runtime
from reconciler.cli.main import main
from reconciler.emulator import EmulatorSettings, serve_in_thread
from support.rawserver import RawServer, hang_up
from support.workspace import APP, enter_repository

HOSTILE = ("https://collector.example.net", "http://collector.example.net:8080")
COMMANDS = {
    "validate": ["validate"],
    "plan": ["plan"],
    "apply": ["apply", "--auto-approve"],
    "export": ["export", "--application-id", APP, "--view", "/a"],
}
TARGET_VARS = ("DD_SITE", "RECONCILER_API_URL", "RECONCILER_ALLOWED_HOSTS")


class Recorder:
    """An httpx transport: records each request and answers an empty listing."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(f"{request.url.scheme}://{request.url.netloc.decode()}")
        return httpx.Response(200, json={"data": []})

    def runtime(self) -> Runtime:
        return Runtime(transport=httpx.MockTransport(self))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    enter_repository(tmp_path, monkeypatch, TARGET_VARS)
    (tmp_path / "snapshots" / "a.yaml").write_text(f"application_id: {APP}\nviews:\n  /a: []\n")
    return tmp_path


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every name lookup the process attempts (none may happen for a refused target)."""
    seen: list[object] = []
    real = socket.getaddrinfo

    def spy(host: object, *args: object, **kwargs: object) -> object:
        seen.append(host)
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise OSError("test: no lookups of other hosts")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    return seen


def write_config(root: Path, api_url: str) -> None:
    (root / "reconciler.yaml").write_text(f"prune: true\napi_url: {api_url}\n")


def given_higher_up(
    args: list[str], how: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """`args` with `value` given as the option `how` (`--site`), or else in the environment
    variable `how` (`DD_SITE`)."""
    if how.startswith("--"):
        return [*args, how, value]
    monkeypatch.setenv(how, value)
    return args


def run(args: list[str], runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(args, runtime=runtime)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("how", ["alone", "--site", "DD_SITE"])
@pytest.mark.parametrize("api_url", HOSTILE)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_file_naming_another_host_is_refused_everywhere(
    command: str,
    api_url: str,
    how: str,
    repo: Path,
    lookups: list[object],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config(repo, api_url)
    args = list(COMMANDS[command])
    if how == "--site" and command != "validate":
        args += ["--site", "datadoghq.eu"]
    if how == "DD_SITE":
        monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    recorder = Recorder()
    code, output = run(args, recorder.runtime(), capsys)
    assert code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    line = lines[0]
    assert line.startswith("reconciler.yaml:2:10: api_url "), line
    assert "collector.example.net" in line
    assert "RECONCILER_ALLOWED_HOSTS=collector.example.net" in line  # says how to allow it
    assert recorder.hosts == []
    assert lookups == []


@pytest.mark.parametrize("variable", ["RECONCILER_ALLOWED_HOSTS", "RECONCILER_API_URL"])
@pytest.mark.parametrize("command", ["plan", "apply", "export"])
def test_allowed_through_the_environment_it_is_used(
    command: str,
    variable: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config(repo, "https://collector.example.net:8443")
    value = "collector.example.net:8443" if variable == "RECONCILER_ALLOWED_HOSTS" else ""
    monkeypatch.setenv(variable, value or "https://collector.example.net:8443")
    recorder = Recorder()
    code, output = run(COMMANDS[command], recorder.runtime(), capsys)
    assert code == 0, output
    assert set(recorder.hosts) == {"https://collector.example.net:8443"}


def test_validate_accepts_an_allowed_host(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(repo, "https://collector.example.net")
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", " other.example , collector.example.net")
    code, output = run(["validate"], Recorder().runtime(), capsys)
    assert code == 0, output


@pytest.mark.parametrize(
    "allowed", ["collector.example.net:9999", "example.net", "collector.example.ne"]
)
def test_an_allow_list_entry_must_match_host_and_port(
    allowed: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config(repo, "https://collector.example.net:8443")
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", allowed)
    recorder = Recorder()
    code, output = run(["plan"], recorder.runtime(), capsys)
    assert code == 1, output
    assert recorder.hosts == []


@pytest.mark.parametrize("site", ["datadoghq.eu", "us5.datadoghq.com"])
def test_a_file_may_choose_a_datadog_site(
    site: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "reconciler.yaml").write_text(f"site: {site}\n")
    recorder = Recorder()
    code, output = run(["plan"], recorder.runtime(), capsys)
    assert code == 0, output
    assert recorder.hosts == [f"https://api.{site}"]


def test_validate_refuses_what_plan_refuses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown site passes the schema; plan refuses it, so validate does too, offline."""
    (repo / "reconciler.yaml").write_text("site: datadoghq.co\n")
    for args in (["validate"], ["plan"]):
        recorder = Recorder()
        code, output = run(args, recorder.runtime(), capsys)
        assert code == 1, output
        assert "unknown Datadog site 'datadoghq.co'" in output
        assert recorder.hosts == []
    code, output = run(["validate"], Recorder().runtime(), capsys)
    assert output.startswith("reconciler.yaml:1:7: "), output


def test_verbose_names_the_host_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "reconciler.yaml").write_text("site: datadoghq.eu\n")
    (repo / "snapshots" / "a.yaml").write_text(
        f"application_id: {APP}\nviews:\n  /a: []\n  /b: []\n  /c: []\n"
    )
    code, output = run(["plan", "-v"], Recorder().runtime(), capsys)
    assert code == 0, output
    assert output.count("API host api.datadoghq.eu (site datadoghq.eu from reconciler.yaml)") == 1


# -- a target given higher up replaces the file's: the file's server sees nothing ---------


@pytest.fixture
def capture() -> Iterator[RawServer]:
    """A loopback server that counts connections (and answers none)."""
    server = RawServer(hang_up)
    yield server
    server.close()


@pytest.fixture
def emulator_url() -> Iterator[str]:
    with serve_in_thread(EmulatorSettings()) as url:
        yield url


@pytest.mark.parametrize("command", ["plan", "apply", "export"])
@pytest.mark.parametrize("how", ["--api-url", "RECONCILER_API_URL", "--site", "DD_SITE"])
def test_a_target_given_higher_up_beats_the_files_api_url(
    how: str,
    command: str,
    repo: Path,
    capture: RawServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A URL given higher up is used, over the real network transport; a site's host is
    never reached (the recording transport answers). The file's server sees nothing."""
    write_config(repo, capture.url)
    if how in ("--site", "DD_SITE"):
        recorder = Recorder()
        args = given_higher_up(COMMANDS[command], how, "datadoghq.eu", monkeypatch)
        code, output = run(args, recorder.runtime(), capsys)
        assert code == 0, output
        assert set(recorder.hosts) == {"https://api.datadoghq.eu"}
    else:
        with serve_in_thread(EmulatorSettings()) as url:
            args = given_higher_up(COMMANDS[command], how, url, monkeypatch)
            code, output = run([*args, "-v"], Runtime(), capsys)
        assert code == 0, output
        assert f"API host 127.0.0.1:{url.rsplit(':', 1)[1]} (api_url from {how})" in output
    assert capture.connections == 0


def test_proxy_variables_of_the_environment_are_not_used(
    repo: Path,
    capture: RawServer,
    emulator_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, capture.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    code, output = run(["plan", "--api-url", emulator_url], Runtime(), capsys)
    assert code == 0, output
    assert capture.connections == 0


def test_validate_given_the_config_path_applies_the_policy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(repo, "https://collector.example.net")
    code, output = run(["validate", "reconciler.yaml"], Recorder().runtime(), capsys)
    assert code == 1, output
    assert output.startswith("reconciler.yaml:2:10: api_url https://collector.example.net "), output
