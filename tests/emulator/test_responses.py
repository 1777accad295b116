"""JSON answers in the API's shape: compact UTF-8, no body for a 204, and a HEAD's answer
that keeps the GET's headers without its body."""

from __future__ import annotations

from reconciler.emulator.responses import json_response, without_body


def test_a_json_answer_is_compact_utf8() -> None:
    response = json_response(200, {"name": "café ☕", "n": [1, 2]}, {"x-extra": "1"})
    assert response.body == '{"name":"café ☕","n":[1,2]}'.encode()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.body))
    assert response.headers["x-extra"] == "1"


def test_none_is_no_body_at_all() -> None:
    response = json_response(204, None, {"x-ratelimit-name": "n"})
    assert response.body == b""
    assert "content-type" not in response.headers
    assert response.headers["x-ratelimit-name"] == "n"


def test_an_empty_list_or_object_is_still_a_body() -> None:
    assert json_response(200, []).body == b"[]"
    assert json_response(200, {}).body == b"{}"


def test_the_answer_to_a_head_keeps_every_header_and_drops_the_body() -> None:
    get = json_response(400, {"errors": ["bad"]}, {"x-ratelimit-limit": "5"})
    head = without_body(get)
    assert head.status_code == 400
    assert head.body == b""
    assert head.raw_headers == get.raw_headers
    assert head.headers["content-length"] == str(len(get.body))
