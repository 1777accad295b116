"""`--target`: which operations a plan is restricted to. Pure.

Syntax (each `--target` is one of):
- `app:GLOB`   the application id (or, with environments, its alias);
- `file:PATH`  the views a snapshots file declares (the path as given, from the working
  directory; `*` and `?` allowed);
- `view:GLOB`  the view name only;
- `GLOB`       a snapshot name or a view name (as before).
Targets of one kind add up (either one); targets of different kinds narrow each other
(`--target app:ID --target /home` is `/home` of that application only). Globs follow
`globs`: only `*` and `?` are wildcards. A target that matches no managed view, file,
application or snapshot is an error (`unmatched`), never a silent "No changes.".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from reconciler.core.errors import ReconcilerError
from reconciler.core.globs import glob_match
from reconciler.core.model import SnapshotKey, ViewScope

TargetKind = Literal["app", "file", "view", "name"]
_PREFIXES: tuple[TargetKind, ...] = ("app", "file", "view")


class UnmatchedTarget(ReconcilerError):
    """A `--target` that matches nothing: a typo must not look like "No changes."."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(
            f"--target {target!r} matches no managed application, file, view or snapshot "
            "(app:ID, file:PATH, view:NAME, or a snapshot or view name; only * and ? are "
            "wildcards)"
        )


@dataclass(frozen=True, slots=True)
class Target:
    """One `--target` as given, its kind, and the pattern after the kind's prefix."""

    text: str
    kind: TargetKind
    pattern: str

    @classmethod
    def parse(cls, text: str) -> Target:
        for kind in _PREFIXES:
            if text.startswith(kind + ":"):
                return cls(text, kind, text[len(kind) + 1 :])
        return cls(text, "name", text)


def _same_path(pattern: str, path: str) -> bool:
    if glob_match(path, pattern) or os.path.normpath(pattern) == os.path.normpath(path):
        return True
    try:
        return os.path.realpath(pattern) == os.path.realpath(path)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True, slots=True)
class TargetSet:
    """Parsed targets plus where each managed view is declared (for `file:`)."""

    targets: tuple[Target, ...] = ()
    files: Mapping[ViewScope, str] = field(default_factory=dict)
    #: application id -> its alias in the environment (`app:` matches either).
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        texts: Iterable[str],
        files: Mapping[ViewScope, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> TargetSet:
        return cls(
            tuple(Target.parse(text) for text in texts), dict(files or {}), dict(names or {})
        )

    @property
    def active(self) -> bool:
        return bool(self.targets)

    def _hits(self, target: Target, key: SnapshotKey | None, scope: ViewScope) -> bool:
        if target.kind == "app":
            alias = self.names.get(scope.application_id)
            return glob_match(scope.application_id, target.pattern) or (
                alias is not None and glob_match(alias, target.pattern)
            )
        if target.kind == "view":
            return glob_match(scope.view_name, target.pattern)
        if target.kind == "file":
            path = self.files.get(scope)
            return path is not None and _same_path(target.pattern, path)
        names = [scope.view_name] + ([] if key is None else [key.snapshot_name])
        return any(glob_match(name, target.pattern) for name in names)

    def selects(self, key: SnapshotKey) -> bool:
        """Every kind given is matched by at least one of its targets (no targets: all)."""
        for kind in {t.kind for t in self.targets}:
            if not any(self._hits(t, key, key.scope) for t in self.targets if t.kind == kind):
                return False
        return True

    def unmatched(self, scopes: Iterable[ViewScope], keys: Iterable[SnapshotKey]) -> list[str]:
        """Targets that match none of the managed `scopes` and snapshot `keys`."""
        scope_list = sorted(set(scopes))
        key_list = list(keys)
        missing = []
        for target in self.targets:
            if any(self._hits(target, None, scope) for scope in scope_list):
                continue
            if target.kind == "name" and any(
                glob_match(key.snapshot_name, target.pattern) for key in key_list
            ):
                continue
            missing.append(target.text)
        return missing


def as_target_set(targets: Sequence[str] | TargetSet) -> TargetSet:
    return targets if isinstance(targets, TargetSet) else TargetSet.parse(targets)
