"""The one seam through which time, retries, timeouts and the HTTP transport come in.

Commands take a `Runtime`; production uses the defaults, tests pass an in-process transport,
a fake clock or a short retry policy instead of monkeypatching modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from reconciler.client import ApiClient, Timeouts
from reconciler.executor import DEFAULT_CONSISTENCY_WINDOW, DEFAULT_INTERRUPT_GRACE
from reconciler.retry import Clock, RetryPolicy, SystemClock
from reconciler.secrets import Credentials


@dataclass(frozen=True)
class Runtime:
    #: None: httpx's own network transport.
    transport: httpx.AsyncBaseTransport | None = None
    clock: Clock = field(default_factory=SystemClock)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeouts: Timeouts = field(default_factory=Timeouts)
    #: Seconds apply watches a view's listing after an ambiguous create before sending it
    #: again (listings may lag writes); `apply --consistency-window` sets it.
    consistency_window: float = DEFAULT_CONSISTENCY_WINDOW
    #: Seconds in-flight requests may take after Ctrl-C or SIGTERM; then they are cancelled.
    interrupt_grace: float = DEFAULT_INTERRUPT_GRACE

    def client(self, base_url: str, credentials: Credentials) -> ApiClient:
        return ApiClient(
            base_url,
            credentials,
            transport=self.transport,
            timeouts=self.timeouts,
            retry=self.retry,
            clock=self.clock,
        )
