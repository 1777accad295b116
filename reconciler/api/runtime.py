"""The one seam through which time, retries, timeouts, the run's deadline and the HTTP
transport come in.

Commands take a `Runtime`; production uses the defaults, tests pass an in-process transport,
a fake clock or a short retry policy instead of monkeypatching modules.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import httpx

from reconciler.api.client import ApiClient
from reconciler.api.listing import ListingProgress
from reconciler.api.retry import DEFAULT_TIMEOUT, Clock, RetryPolicy, SystemClock
from reconciler.api.transport import Timeouts
from reconciler.core.secrets import Credentials

__all__ = ["DEFAULT_CONSISTENCY_WINDOW", "DEFAULT_INTERRUPT_GRACE", "DEFAULT_TIMEOUT", "Runtime"]

#: Seconds a create's listing is watched after an ambiguous answer before it is sent again.
DEFAULT_CONSISTENCY_WINDOW = 10.0
#: Seconds in-flight operations may take once `stop` is set; then they are cancelled.
DEFAULT_INTERRUPT_GRACE = 10.0


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
    #: The run's deadline in the clock's monotonic time; None: no deadline. No request is
    #: started, and no wait lasts, past it.
    deadline: float | None = None
    #: The `--timeout` the deadline was set from (seconds), for `renewed`.
    timeout: float | None = None
    #: Told as views are listed (a terminal's progress line); None: nothing is told.
    listing_progress: ListingProgress | None = None

    def with_timeout(self, seconds: float | None) -> Runtime:
        """This runtime with a deadline `seconds` from now (never later than one it has)."""
        if seconds is None:
            return self
        deadline = self.clock.monotonic() + seconds
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        return dataclasses.replace(self, deadline=deadline, timeout=seconds)

    def renewed(self) -> Runtime:
        """The same timeout counted again from now: for a command that waited on a person
        (the confirmation prompt), whose time is not the server's to spend. Clients made
        before keep their deadline."""
        if self.timeout is None:
            return self
        return dataclasses.replace(self, deadline=self.clock.monotonic() + self.timeout)

    def time_left(self) -> float:
        """Seconds until the deadline (inf without one; 0 once it has passed)."""
        if self.deadline is None:
            return math.inf
        return max(0.0, self.deadline - self.clock.monotonic())

    def client(self, base_url: str, credentials: Credentials) -> ApiClient:
        return ApiClient(
            base_url,
            credentials,
            transport=self.transport,
            timeouts=self.timeouts,
            retry=self.retry,
            clock=self.clock,
            deadline=self.deadline,
        )
