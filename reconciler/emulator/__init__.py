"""A local stand-in for Datadog's RUM replay heatmap snapshot API (four endpoints).

It knows only the public API contract (OpenAPI fragment and observed Datadog behaviour),
nothing of the reconciler's engine, so it tests the engine instead of mirroring it.
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.server import serve_in_thread
from reconciler.emulator.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app", "serve_in_thread"]
