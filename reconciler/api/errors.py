"""Failures of API calls as a hierarchy, dispatched on by type (as httpx does with
`TransportError` > `TimeoutException`), never by flags.

    ApiError                  any failed call, after retries
    ├── AuthError             401 / 403: bad keys or permissions; fails every view alike
    ├── NotFound              404
    ├── RequestRejected       another 4xx: the server refused; nothing was done
    ├── RateLimited           429 past every bound: nothing was done
    ├── Unavailable           5xx, 408, timeout, connection error: transient
    │   └── AmbiguousWrite    ... of a write that the server may have committed (+ Ambiguous)
    ├── MalformedResponse     a success whose body is not what the API promises
    │   └── AmbiguousCreate   ... of a POST: something may have been created (+ Ambiguous)
    ├── DeadlineExceeded      the run's deadline passed before an answer
    └── Ambiguous             marker base: the server may have acted on the request, so a
                              create must be looked for before it is sent again
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from reconciler.core.errors import ReconcilerError
from reconciler.core.secrets import redact

#: Datadog documents no permission for these endpoints: name none, point at what measures.
KEYS_HINT: Final = (
    "check DD_API_KEY / DD_APP_KEY and what the application key may do (Datadog documents no"
    " permission for these endpoints; `reconciler doctor --write-probe` tries a list, a"
    " create, a patch and a delete)"
)


class ApiError(ReconcilerError):
    """A failed API call. `status` is None when no response arrived."""

    #: The server may have acted on the request (the caller must look before re-sending a
    #: create). Derived from the type, never set per instance.
    ambiguous: bool = False
    #: Running again later may succeed.
    retryable: bool = False

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        messages: tuple[str, ...] = (),
        *,
        reason: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.messages = tuple(redact(message) for message in messages)
        self.reason = None if reason is None else redact(reason)
        self.attempts = attempts
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [f"{self.method} {self.path}"]
        if self.status is not None:
            parts.append(f"{self.status} {_phrase(self.status)}".rstrip())
        if self.reason:
            parts.append(self.reason)
        if self.messages:
            parts.append("; ".join(self.messages))
        if isinstance(self, AuthError):
            parts.append(KEYS_HINT)
        text = ": ".join(parts)
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                type(self),
                self.method,
                self.path,
                self.status,
                self.messages,
                self.reason,
                self.attempts,
            ),
        )


def _rebuild(
    cls: type[ApiError],
    method: str,
    path: str,
    status: int | None,
    messages: tuple[str, ...],
    reason: str | None,
    attempts: int,
) -> ApiError:
    return cls(method, path, status, messages, reason=reason, attempts=attempts)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class AuthError(ApiError):
    """401 / 403."""


class NotFound(ApiError):
    """404."""


class RequestRejected(ApiError):
    """A definite 4xx refusal other than 401, 403, 404, 408 and 429."""


class RateLimited(ApiError):
    """429 after every bound on waiting was reached. Nothing was done."""

    retryable = True


class Unavailable(ApiError):
    """5xx, 408, a timeout or a connection failure, after the retries allowed."""

    retryable = True


class Ambiguous(ApiError):
    """The server may have acted on the request: look before re-sending a create."""

    ambiguous = True


class AmbiguousWrite(Unavailable, Ambiguous):
    """A write sent to a server that may have committed it without a usable answer."""


class MalformedResponse(ApiError):
    """A success status with a body that is not what the API promises."""


class AmbiguousCreate(MalformedResponse, Ambiguous):
    """A POST answered with success but without a usable snapshot (no id, no body)."""


class DeadlineExceeded(ApiError):
    """The run's deadline passed before the request got an answer (a write that was already
    sent is raised as AmbiguousWrite instead)."""


def error_for_status(status: int | None, *, write: bool, sent: bool = True) -> type[ApiError]:
    """The error type of a final failed outcome: `status` None means no response."""
    if status is None or status == 408 or status >= 500:
        return AmbiguousWrite if write and sent else Unavailable
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    return RequestRejected
