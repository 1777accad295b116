"""`RECONCILER_API_URL` allows a file's `api_url` only when both name the same URL: scheme,
host and port (SPEC section 3). The same host on another port or scheme is another service:
the file is refused as any other host would be, before a request is sent."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.api.runtime import Runtime
from reconciler.cli.main import main
from reconciler.config.sites import TargetRefused, check_file_api_url
from support.workspace import APP, enter_repository

ALLOWED = "https://collector.example.net:8443"
#: A file's api_url on the allowed URL's host, not at that URL.
SAME_HOST_ELSEWHERE = [
    "https://collector.example.net:9443",  # another port
    "https://collector.example.net",  # the scheme's default port, not 8443
    "http://collector.example.net:8443",  # another scheme
]


@pytest.mark.parametrize("api_url", SAME_HOST_ELSEWHERE)
def test_the_same_host_at_another_port_or_scheme_is_refused(api_url: str) -> None:
    with pytest.raises(TargetRefused) as info:
        check_file_api_url(api_url, {"RECONCILER_API_URL": ALLOWED})
    assert str(info.value).startswith(f"api_url {api_url} is neither a Datadog site nor ")


@pytest.mark.parametrize("api_url", [ALLOWED, "HTTPS://Collector.Example.NET:8443/"])
def test_the_url_itself_is_allowed_whatever_its_case(api_url: str) -> None:
    check_file_api_url(api_url, {"RECONCILER_API_URL": ALLOWED})


@pytest.mark.parametrize("api_url", SAME_HOST_ELSEWHERE)
def test_plan_refuses_such_a_file_and_sends_nothing(
    api_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    enter_repository(tmp_path, monkeypatch, ())
    (tmp_path / "snapshots" / "a.yaml").write_text(f"application_id: {APP}\nviews:\n  /a: []\n")
    (tmp_path / "reconciler.yaml").write_text(f"prune: true\napi_url: {api_url}\n")
    monkeypatch.setenv("RECONCILER_API_URL", ALLOWED)
    sent: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        return httpx.Response(200, json={"data": []})

    code = main(["plan"], runtime=Runtime(transport=httpx.MockTransport(answer)))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith(f"reconciler.yaml:2:10: api_url {api_url} is neither ")
    assert captured.err.count("\n") == 1
    assert sent == []
