"""Hostile requests: the emulator answers every one with a status of its contract (never a
5xx unless a fault is injected, never a traceback), 4xx in Datadog's error shape; a body over
the limit is 413 without being held, malformed Unicode is 400; and where the spec sets no
rule, the default is the spec's behaviour, stricter only when told.

`hostile_requests` and `problem_of` are also what bench/emulator_fuzz.py runs, much longer,
against a real `reconciler emulator` process."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import EmulatorSettings, create_app, serve_in_thread
from reconciler.emulator.app import emulator_of
from reconciler.emulator.settings import CONFIGURABLE, apply_settings
from support.emulatorkit import (
    COLLECTION,
    KEYS,
    attributes,
    client_for,
    create,
    create_body,
    list_view,
    stored,
    update_body,
)

pytestmark = pytest.mark.anyio

# ---- the generator of hostile requests -----------------------------------------------------

#: In a path template, the id of the snapshot every run starts with.
EXISTING = "{existing}"
#: Every status the emulator may answer without an injected fault.
CONTRACT_STATUSES = frozenset({200, 201, 204, 400, 403, 404, 405, 413, 415, 429})


@dataclass(frozen=True)
class HostileRequest:
    settings: dict[str, Any]  # live settings, as POST /_emulator/config takes them
    method: str
    path: str  # percent-encoded; EXISTING stands for the existing snapshot's id
    query: str  # percent-encoded
    headers: dict[bytes, bytes]
    body: bytes | None

    def url(self, existing_id: str) -> str:
        path = self.path.replace(EXISTING, existing_id)
        return f"{path}?{self.query}" if self.query else path

    def content(self, existing_id: str) -> bytes | None:
        if self.body is None:
            return None
        return self.body.replace(EXISTING.encode(), existing_id.encode())


def _escaped(raw: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in raw)


# Text that has broken servers: lone and paired surrogates, NUL, bidi, combining marks.
_NASTY = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "\udbff\udbff",
        "\ud83d\ude00",
        "",
        " ",
        "\x00",
        "\u202e",
        "e\u0301",
        "/",
    ]
)
_TEXT = st.text(alphabet=st.characters(), max_size=12) | _NASTY
_LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_JSON = st.recursive(
    _LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _weighted(*choices: tuple[int, Any]) -> st.SearchStrategy[Any]:
    """One of the values, each as often as its weight says."""
    return st.sampled_from([value for weight, value in choices for _ in range(weight)])


_VALID_CREATE = create_body()
_VALID_UPDATE = update_body(EXISTING)
_FIELDS = [*_VALID_CREATE["data"]["attributes"], "session_id", "view_id", "created_at", "x"]


@st.composite
def _spec_shaped(draw: st.DrawFn, method: str) -> Any:
    """A valid create (POST) or update (else) body with 0 to 3 edits: a field dropped, a
    value fuzzed, an unknown or read-only field added, `data.type` or `data.id` changed."""
    body = json.loads(json.dumps(_VALID_CREATE if method == "POST" else _VALID_UPDATE))
    data, attributes = body["data"], body["data"]["attributes"]
    for _ in range(draw(_weighted((4, 0), (3, 1), (2, 2), (1, 3)))):
        edit = draw(st.sampled_from(["drop", "value", "text", "name", "type", "id", "data", "top"]))
        name = draw(st.sampled_from(_FIELDS))
        if edit == "drop":
            attributes.pop(name, None)
        elif edit in ("value", "text"):
            attributes[name] = draw(_JSON if edit == "value" else _NASTY)
        elif edit == "name":
            attributes[draw(_NASTY)] = attributes.pop(name, None)
        elif edit in ("type", "id"):
            data[edit] = draw(_JSON)
        elif edit == "data":
            data.pop(draw(st.sampled_from(["type", "attributes", "id"])), None)
        else:
            body[draw(_TEXT)] = draw(_JSON)
    return body


@st.composite
def _json_bytes(draw: st.DrawFn, method: str) -> bytes:
    shaped = draw(_weighted((3, True), (1, False)))
    value = draw(_spec_shaped(method) if shaped else _JSON)
    # ensure_ascii: lone surrogates as \ud800 escapes; else as CESU-8 bytes (invalid UTF-8).
    text = json.dumps(value, ensure_ascii=draw(_weighted((3, True), (1, False))))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(_weighted((7, False), (1, True))):
        raw = raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
    return raw


# Bodies that broke servers: non-JSON literals, a BOM, nesting past the recursion limit,
# 5,000 digits, lone surrogates (as escapes, as a key echoed in a message, UTF-8 encoded).
_NASTY_BODIES = st.sampled_from(
    [
        b"NaN",
        b'{"data": Infinity}',
        b"\xef\xbb\xbf{}",
        b"[" * 1000,  # past the recursion limit, yet within the smaller body limits
        b"[" * 5000,
        b'{"a":' * 3000,
        b"9" * 5000,
        b'"\\ud800"',
        b'{"\\udc00": 1}',
        b'{"data": {"type": "snapshots", "\\udc00": 1}}',
        b"\xed\xa0\x80",
    ]
)
_LONG_BODIES = st.integers(min_value=1, max_value=3000).map(
    lambda n: b'{"data": "' + b"x" * n + b'"}'
)
_BODY_KINDS = {
    "json": None,  # spec-shaped or any JSON, for the method
    "nasty": _NASTY_BODIES,
    "binary": st.binary(max_size=64),
    "long": _LONG_BODIES,
    "none": st.none(),
}
_SEGMENTS = st.one_of(
    st.sampled_from(["", "missing", "%2F", "%00", "%ff", "%ED%A0%80", "..", "%20"]),
    st.binary(min_size=1, max_size=8).map(_escaped),
    st.text(alphabet=st.characters(), min_size=1, max_size=8).map(
        lambda text: quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
    ),
)
_ADMIN_PATHS = [
    "/_emulator/reset",
    "/_emulator/snapshots",
    "/_emulator/stats",
    "/_emulator/config",
]
_OTHER_PATHS = st.builds(
    lambda base, segments, slash: base.rstrip("/") + "".join("/" + s for s in segments) + slash,
    st.sampled_from([COLLECTION, "/api/v2/replay/heatmap", "/", *_ADMIN_PATHS]),
    st.lists(_SEGMENTS, max_size=2),
    st.sampled_from(["", "/"]),
)
_PARAMETER_VALUES = st.one_of(
    st.sampled_from(["", "/home", "/Home/", "0", "-1", "1", "1000", "9" * 30, "2.5", " 7 ", "1e3"]),
    st.integers().map(str),
    st.binary(max_size=6).map(_escaped),
    st.text(alphabet=st.characters(), max_size=8).map(
        lambda text: quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
    ),
)
_PARAMETER_NAMES = _weighted(
    (4, "filter[view_name]"),
    (1, "filter[application_id]"),
    (1, "filter[device_type]"),
    (3, "page[limit]"),
    (1, "quiet"),
    (1, "filter[view_name"),
)
_QUERIES = st.lists(
    st.tuples(
        _PARAMETER_NAMES.map(lambda name: quote_from_bytes(name.encode())), _PARAMETER_VALUES
    ),
    max_size=4,
).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
# Header values a client can send (h11 refuses CR, LF, NUL and outer whitespace).
_HEADER_VALUES = st.binary(max_size=16).map(lambda raw: bytes(b for b in raw if 0x21 <= b != 0x7F))
_CONTENT_TYPES = _weighted(
    (6, b"application/json"),
    (1, b"application/json; charset=utf-8"),
    (1, b"APPLICATION/JSON"),
    (1, b"text/plain"),
    (1, b"application/x-www-form-urlencoded"),
    (1, b"multipart/form-data; boundary=x"),
    (1, b"application/vnd.api+json"),
    (1, b";"),
)


@st.composite
def _headers(draw: st.DrawFn) -> dict[bytes, bytes]:
    headers = {name.encode(): value.encode() for name, value in KEYS.items()}
    if not draw(_weighted((9, True), (1, False))):  # mostly authorised: reach the handlers
        names = st.sampled_from([name.encode() for name in KEYS])
        headers = draw(st.dictionaries(names, _HEADER_VALUES))
    kind = draw(_weighted((4, "json"), (1, "none"), (1, "listed"), (1, "any")))
    if kind != "none":
        json_type = _CONTENT_TYPES if kind == "listed" else st.just(b"application/json")
        headers[b"content-type"] = draw(_HEADER_VALUES if kind == "any" else json_type)
    return headers


# Live settings, faults that answer 5xx on purpose (fail_rate, drops) left at 0.
_SETTINGS = st.fixed_dictionaries(
    {
        "max_body_bytes": _weighted((1, 64), (1, 1024), (2, 1_048_576)),
        "reject_page_limit_below_one": st.booleans(),
        "reject_empty_view_filter": st.booleans(),
        "reject_mismatched_patch_id": st.booleans(),
        "error_style": st.sampled_from(["strings", "objects"]),
        "normalize_view_names": st.booleans(),
        "page_limit_max": st.sampled_from([1, 3, 1000]),
        "page_cap_mode": st.sampled_from(["silent", "reject"]),
        "list_lag_ms": st.sampled_from([0.0, 50.0]),
        "sparse_items": st.sampled_from([[], ["start", "view_name"]]),
        "timestamp_precision": st.sampled_from(["fixed", "variable"]),
        "extra_attributes": st.booleans(),
        "repeat_ids_rate": st.sampled_from([0.0, 0.5]),
        "create_without_id_rate": st.sampled_from([0.0, 0.5]),
        "concurrent_writer_rate": st.sampled_from([0.0, 0.5]),
        "rate_limit": _weighted((5, None), (1, 1)),
    }
)
_CONFIG_BODIES = st.dictionaries(st.sampled_from(sorted(CONFIGURABLE)), _JSON, max_size=3).map(
    lambda changes: json.dumps(changes).encode()
)
_ANY_METHOD = st.sampled_from(
    ["GET", "POST", "PATCH", "DELETE", "HEAD", "PUT", "OPTIONS"]
) | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)


@st.composite
def hostile_requests(draw: st.DrawFn) -> HostileRequest:
    """One request of any method, path, query, headers and body, on given settings: mostly
    aimed at the four operations (so that most reach their deepest checks), else anywhere."""
    target = draw(_weighted((4, "list"), (3, "create"), (3, "item"), (1, "admin"), (1, "any")))
    if target == "list":
        method, path = draw(_weighted((5, "GET"), (1, "HEAD"))), COLLECTION
    elif target == "create":
        method, path = "POST", COLLECTION
    elif target == "item":
        method = draw(_weighted((3, "PATCH"), (1, "DELETE")))
        segment = draw(_weighted((6, EXISTING), (1, ""), (2, "other")))
        path = COLLECTION + "/" + (draw(_SEGMENTS) if segment == "other" else segment)
    elif target == "admin":
        method, path = draw(st.sampled_from(["GET", "POST"])), draw(st.sampled_from(_ADMIN_PATHS))
    else:
        method, path = draw(_ANY_METHOD), draw(_OTHER_PATHS)
    if path == "/_emulator/config" and draw(st.booleans()):
        body: bytes | None = draw(_CONFIG_BODIES)  # setting names with any values
    else:
        # A body where one is read, mostly; elsewhere now and then (it must be ignored).
        reads = method in ("POST", "PATCH")
        kinds = [(5 if reads else 1, "json"), (2 if reads else 1, "nasty"), (1, "binary")]
        kind = draw(_weighted(*kinds, (1, "long"), (1 if reads else 8, "none")))
        strategy = _BODY_KINDS[kind]
        body = draw(_json_bytes(method) if strategy is None else strategy)
    # A query on the others now and then: they ignore it, but it must be UTF-8 too.
    query = draw(_QUERIES) if target in ("list", "any") or draw(st.booleans()) else ""
    if target == "list" and draw(_weighted((4, True), (1, False))):
        query = "&".join(filter(None, [f"filter%5Bview_name%5D={draw(_PARAMETER_VALUES)}", query]))
    return HostileRequest(
        settings=draw(_SETTINGS),
        method=method,
        path=path,
        query=query,
        headers=draw(_headers()),
        body=body,
    )


def problem_of(method: str, status: int, content_type: str, content: bytes) -> str | None:
    """What is wrong with an answer, if anything: a status outside the contract, a 4xx
    without Datadog's error shape (strings or status/title/detail objects), a body that is
    not JSON."""
    if status not in CONTRACT_STATUSES:
        return f"status {status}"
    if not content or method == "HEAD":
        # A 201 without a body is a world fault (create_without_id_rate), not a failure.
        return None if status in (201, 204) or method == "HEAD" else "no body"
    if not content_type.startswith("application/json"):
        return f"content-type {content_type!r}"
    try:
        body = json.loads(content)
    except ValueError:
        return "a body that is not JSON"
    if status < 400:
        return None if isinstance(body, dict) else "a success that is not an object"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return "a 4xx without errors"
    for error in errors:
        is_object = isinstance(error, dict) and {"status", "title", "detail"} <= error.keys()
        if not isinstance(error, str) and not is_object:
            return f"an error item {error!r}"
    return None


SEED_ATTRIBUTES = attributes()

# ---- the property test ----------------------------------------------------------------------


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _errors_logged() -> Iterator[list[logging.LogRecord]]:
    handler = _Collected()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


async def _answer(request: HostileRequest) -> httpx.Response:
    settings = EmulatorSettings(seed=3)
    apply_settings(settings, request.settings)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            seeded = await client.post("/_emulator/snapshots", json={"data": [SEED_ATTRIBUTES]})
            existing_id = seeded.json()["data"][0]["id"]
            return await client.request(
                request.method,
                request.url(existing_id),
                headers=request.headers,
                content=request.content(existing_id),
            )
    finally:
        emulator_of(app).store.close()  # no lifespan in-process: close it here


@settings(
    max_examples=200,
    derandomize=True,  # the same examples on every run: the suite never flakes
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=hostile_requests())
def test_every_request_is_answered_within_the_contract(request: HostileRequest) -> None:
    with _errors_logged() as logged:
        # ASGITransport re-raises anything the app lets escape: that fails the test too.
        response = asyncio.run(_answer(request))
    content_type = response.headers.get("content-type", "")
    assert problem_of(request.method, response.status_code, content_type, response.content) is None
    assert logged == []


# ---- the body limit: 413, streamed ----------------------------------------------------------

LIMIT = 4096
CHUNK = 1024


class _CountedBody:
    """A request body of `chunks` chunks, counting how many the app pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * CHUNK


@pytest.mark.parametrize("path", [COLLECTION, COLLECTION + "/some-id"])
async def test_a_body_over_the_limit_is_413_and_read_no_further(path: str) -> None:
    body = _CountedBody(chunks=100_000)  # 100 MiB if it were all read
    async with client_for(EmulatorSettings(max_body_bytes=LIMIT)) as client:
        method = "POST" if path == COLLECTION else "PATCH"
        headers = {"content-type": "application/json"}
        response = await client.request(method, path, content=body, headers=headers)
        assert response.status_code == 413
        assert response.json() == {"errors": [f"request body larger than {LIMIT} bytes"]}
        assert body.pulled == LIMIT // CHUNK + 1  # the first chunk past the limit, no more
        assert await stored(client) == []


@pytest.mark.parametrize("declared", [str(LIMIT + 1), "9" * 40])
async def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read(
    declared: str,
) -> None:
    body = _CountedBody(chunks=10)
    headers = {"content-type": "application/json", "content-length": declared}
    async with client_for(EmulatorSettings(max_body_bytes=LIMIT)) as client:
        response = await client.post(COLLECTION, content=body, headers=headers)
    assert response.status_code == 413
    assert body.pulled == 0


async def test_a_body_at_the_limit_is_read() -> None:
    body = json.dumps(create_body()).encode()
    async with client_for(EmulatorSettings(max_body_bytes=len(body))) as client:
        assert (await client.post(COLLECTION, content=body)).status_code == 201
        client_headers = {"content-type": "application/json"}
        one_more = await client.post(COLLECTION, content=body + b" ", headers=client_headers)
        assert one_more.status_code == 413
        assert len(await stored(client)) == 1


async def test_the_default_limit_is_one_mebibyte() -> None:
    padding = "x" * (1_048_576 - len(json.dumps(create_body(snapshot_name=""))))
    exact = json.dumps(create_body(snapshot_name=padding)).encode()
    assert len(exact) == 1_048_576
    async with client_for() as client:
        assert (await client.post(COLLECTION, content=exact)).status_code == 201
        assert (await client.post(COLLECTION, content=exact + b"\n")).status_code == 413


@pytest.mark.parametrize("style", ["strings", "objects"])
async def test_413_is_in_the_configured_error_shape(style: str) -> None:
    settings = EmulatorSettings(max_body_bytes=16)
    apply_settings(settings, {"error_style": style})
    async with client_for(settings) as client:
        response = await client.post(COLLECTION, json=create_body())
    message = "request body larger than 16 bytes"
    title = HTTPStatus(413).phrase
    expected = (
        message if style == "strings" else {"status": "413", "title": title, "detail": message}
    )
    assert response.json() == {"errors": [expected]}


def test_a_real_server_answers_413_to_a_large_upload_and_serves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Over a socket the client sends its whole body before reading: the server must answer
    # 413 without holding the body, then discard the rest so the client reads the answer.
    def chunks() -> Iterator[bytes]:
        yield b'{"data": "'
        for _ in range(8 * 1024):  # 8 MiB
            yield b"x" * 1024
        yield b'"}'

    caplog.set_level(logging.WARNING)
    headers = {**KEYS, "content-type": "application/json"}
    with serve_in_thread(EmulatorSettings(max_body_bytes=LIMIT)) as url, httpx.Client() as client:
        chunked = client.post(f"{url}{COLLECTION}", content=chunks(), headers=headers)
        declared = {**headers, "content-length": str(10 + 8 * 1024 * 1024 + 2)}
        sized = client.post(f"{url}{COLLECTION}", content=chunks(), headers=declared)
        after = client.post(f"{url}{COLLECTION}", json=create_body(), headers=KEYS)
    assert (chunked.status_code, sized.status_code, after.status_code) == (413, 413, 201)
    assert caplog.records == []


# ---- malformed Unicode: 400 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"data": {"type": "snapshots", "attributes": {"snapshot_name": "\\ud800"}}}', "lone"),
        (b'{"data": {"type": "snapshots", "attributes": {"x\\udfff": 1}}}', "lone"),
        (b'{"data": {"type": "snapshots", "attributes": ["\\udc00"]}}', "lone"),
        (b'{"data": {"type": "\\ud83d"}}', "lone"),
        (b'["\\ud800\\ud800"]', "lone"),
        (b'{"data": "\xff"}', "not valid UTF-8 (byte 10)"),
        (b'{"data": "\xed\xa0\x80"}', "not valid UTF-8"),  # a surrogate, UTF-8 encoded
        (b'\xff\xfe{\x00"\x00', "not valid UTF-8 (byte 0)"),  # UTF-16, which json would read
        (b'{"data": {"type": "snapshots", "attributes": {"start": NaN}}}', "NaN is not JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
async def test_malformed_text_in_a_body_is_400(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    for method, path in (("POST", COLLECTION), ("PATCH", f"{COLLECTION}/any")):
        response = await client.request(method, path, content=body)
        assert response.status_code == 400, response.text
        assert any(message in error for error in response.json()["errors"]), response.text
    assert await stored(client) == []


async def test_a_valid_surrogate_pair_is_text(client: httpx.AsyncClient) -> None:
    body = json.dumps(create_body(snapshot_name="\U0001f600")).encode()  # "\ud83d\ude00"
    response = await client.post(COLLECTION, content=body)
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["snapshot_name"] == "\U0001f600"


async def test_lone_surrogates_in_admin_bodies_are_400(client: httpx.AsyncClient) -> None:
    seed = b'{"data": [{"view_name": "\\ud800"}]}'
    assert (await client.post("/_emulator/snapshots", content=seed)).status_code == 400
    config = b'{"error_style": "\\udfff"}'
    assert (await client.post("/_emulator/config", content=config)).status_code == 400


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", COLLECTION + "?filter[view_name]=%FF"),
        ("GET", COLLECTION + "?filter[view_name]=/home&filter[device_type]=%ED%A0%80"),
        ("DELETE", COLLECTION + "/%C3"),
        ("PATCH", COLLECTION + "/%80abc"),
    ],
)
async def test_percent_escapes_that_are_not_utf8_are_400(
    client: httpx.AsyncClient, method: str, url: str
) -> None:
    response = await client.request(method, url, json=update_body())
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["errors"][0]


async def test_percent_escaped_utf8_is_text(client: httpx.AsyncClient) -> None:
    await create(client, view_name="/caf\u00e9")
    assert len(await list_view(client, "/caf\u00e9")) == 1  # sent as %C3%A9


def test_a_real_server_logs_no_traceback_for_malformed_unicode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    bad = b'{"data": {"type": "snapshots", "attributes": {"snapshot_name": "\\ud800"}}}'
    with serve_in_thread() as url:
        response = httpx.post(f"{url}{COLLECTION}", content=bad, headers=KEYS)
        path = httpx.delete(f"{url}{COLLECTION}/%ED%A0%80", headers=KEYS)
    assert (response.status_code, path.status_code) == (400, 400)
    assert caplog.records == []


# ---- media type and paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/vnd.api+json"]
)
async def test_a_body_of_another_declared_media_type_is_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    created = await create(client)
    body = json.dumps(create_body()).encode()
    headers = {"content-type": content_type}
    posted = await client.post(COLLECTION, content=body, headers=headers)
    patched = await client.patch(
        f"{COLLECTION}/{created['id']}", content=json.dumps(update_body()), headers=headers
    )
    for response in (posted, patched):
        assert response.status_code == 415
        kind = content_type.split(";")[0]
        assert response.json() == {
            "errors": [f"unsupported media type '{kind}': use application/json"]
        }
    assert await stored(client) == [created]


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "Application/JSON"],
)
async def test_json_and_undeclared_bodies_are_read_as_json(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps(create_body()).encode()
    assert (await client.post(COLLECTION, content=body, headers=headers)).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", COLLECTION + "/?filter[view_name]=/home"),
        ("POST", COLLECTION + "/"),
        ("PATCH", COLLECTION + "/{id}/"),
        ("DELETE", COLLECTION + "/{id}/"),
    ],
)
async def test_a_trailing_slash_is_404_not_a_redirect(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    created = await create(client)
    response = await client.request(method, path.replace("{id}", created["id"]), json=update_body())
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}
    assert await stored(client) == [created]


# ---- where the spec sets no rule: its behaviour by default, strictness on request ---------


async def test_a_create_without_attributes_is_400_naming_the_required_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(COLLECTION, json={"data": {"type": "snapshots"}})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        f"missing required attribute '{name}'"
        for name in (
            "application_id",
            "view_name",
            "device_type",
            "snapshot_name",
            "event_id",
            "start",
            "is_device_type_selected_by_user",
        )
    ]


async def test_an_update_without_attributes_is_400_naming_the_required_ones(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client)
    body = {"data": {"type": "snapshots", "id": created["id"]}}
    response = await client.patch(f"{COLLECTION}/{created['id']}", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "missing required attribute 'event_id'",
        "missing required attribute 'start'",
        "missing required attribute 'is_device_type_selected_by_user'",
    ]


@pytest.mark.parametrize("limit", ["0", "-3", "-0", str(-(2**63))])
async def test_page_limit_of_zero_or_less_is_an_empty_page_by_default(
    client: httpx.AsyncClient, limit: str
) -> None:
    await create(client)
    assert await list_view(client, **{"page[limit]": limit}) == []
    assert len(await list_view(client, **{"page[limit]": "1"})) == 1


async def test_page_limit_of_zero_or_less_is_400_when_told(settings: EmulatorSettings) -> None:
    settings.reject_page_limit_below_one = True
    async with client_for(settings) as client:
        for limit in ("0", "-3"):
            params = {"filter[view_name]": "/home", "page[limit]": limit}
            response = await client.get(COLLECTION, params=params)
            assert response.status_code == 400
            assert response.json() == {
                "errors": [f"page[limit] must be a positive integer, got '{limit}'"]
            }
        assert await list_view(client, **{"page[limit]": "1"}) == []


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("ten", "page[limit] must be an integer, got 'ten'"),
        ("2.5", "page[limit] must be an integer, got '2.5'"),
        ("", "page[limit] must be an integer, got ''"),
        ("\u0663", "page[limit] must be an integer, got '\u0663'"),  # an Arabic-Indic 3
        (str(2**63), "page[limit] must fit in a 64-bit integer"),
        ("9" * 5000, "page[limit] must fit in a 64-bit integer"),
    ],
)
async def test_page_limit_that_is_not_an_int64_is_400(
    client: httpx.AsyncClient, limit: str, message: str
) -> None:
    params = {"filter[view_name]": "/home", "page[limit]": limit}
    response = await client.get(COLLECTION, params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": [message]}


async def test_an_empty_view_filter_lists_the_view_named_empty_by_default(
    client: httpx.AsyncClient,
) -> None:
    unnamed = await create(client, view_name="")
    await create(client, view_name="/home")
    assert await list_view(client, "") == [unnamed]


async def test_an_empty_view_filter_is_400_when_told(settings: EmulatorSettings) -> None:
    settings.reject_empty_view_filter = True
    async with client_for(settings) as client:
        response = await client.get(COLLECTION, params={"filter[view_name]": ""})
        missing = await client.get(COLLECTION)
    assert response.status_code == 400
    assert response.json() == {"errors": ["query parameter 'filter[view_name]' must not be empty"]}
    assert missing.json() == {"errors": ["missing required query parameter 'filter[view_name]'"]}


async def test_a_patch_naming_another_id_updates_the_path_s_snapshot_by_default(
    client: httpx.AsyncClient,
) -> None:
    target = await create(client, snapshot_name="target")
    other = await create(client, snapshot_name="other")
    response = await client.patch(
        f"{COLLECTION}/{target['id']}", json=update_body(other["id"], event_id="new")
    )
    assert response.status_code == 200
    assert response.json()["data"]["id"] == target["id"]
    events = {item["id"]: item["attributes"]["event_id"] for item in await list_view(client)}
    assert events == {target["id"]: "new", other["id"]: other["attributes"]["event_id"]}


async def test_a_patch_naming_another_id_is_400_when_told(settings: EmulatorSettings) -> None:
    settings.reject_mismatched_patch_id = True
    async with client_for(settings) as client:
        target = await create(client)
        same = await client.patch(f"{COLLECTION}/{target['id']}", json=update_body(target["id"]))
        other = await client.patch(f"{COLLECTION}/{target['id']}", json=update_body("other"))
        after = await stored(client)
    assert same.status_code == 200
    assert after == [same.json()["data"]]  # the refused PATCH changed nothing
    assert other.status_code == 400
    assert other.json() == {
        "errors": [
            f'\'data.id\' "other" does not match the snapshot id in the path "{target["id"]}"'
        ]
    }


async def test_a_patch_id_that_is_not_a_string_is_400(client: httpx.AsyncClient) -> None:
    target = await create(client)
    body = update_body()
    body["data"]["id"] = 5
    response = await client.patch(f"{COLLECTION}/{target['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": ["'data.id' must be a string"]}


async def test_the_strictness_options_change_live(client: httpx.AsyncClient) -> None:
    params = {"filter[view_name]": "", "page[limit]": "0"}
    assert (await client.get(COLLECTION, params=params)).status_code == 200
    changes = {"reject_empty_view_filter": True, "reject_page_limit_below_one": True}
    config = await client.post("/_emulator/config", json=changes | {"max_body_bytes": 10})
    assert config.json() | changes == config.json()
    refused = await client.get(COLLECTION, params=params)
    assert len(refused.json()["errors"]) == 1  # the view filter is checked first
    assert (await client.post(COLLECTION, json=create_body())).status_code == 413


@pytest.mark.parametrize(
    "changes",
    [
        {"max_body_bytes": 0},
        {"max_body_bytes": 2**63},
        {"page_limit_max": 2**64},
        {"latency_ms": 1e309},  # json.dumps writes Infinity; the endpoint refuses it as JSON
        {"reject_empty_view_filter": "yes"},
    ],
)
async def test_settings_out_of_range_are_refused(
    client: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    before = (await client.get("/_emulator/config")).json()
    response = await client.post("/_emulator/config", content=json.dumps(changes))
    assert response.status_code == 400
    assert response.json()["errors"]
    assert (await client.get("/_emulator/config")).json() == before
