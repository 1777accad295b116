"""Randomized chaos scenarios for `reconciler apply` against a real emulator server.

A scenario is a pure function of its seed: the remote state to seed (managed views with
snapshots to keep, patch, delete, re-key and seeded duplicates; unmanaged views that hold
snapshots too), the desired files, and the fault profile of the server (random 5xx,
latency, commit-then-drop, a tight rate limit that produces 429 bursts; and the world
outside the executor's design: listing lag, repeated ids, 201 without an id, a concurrent
writer) and of the client (retry backoff, parallelism). What is not a function of the
seed: which request meets which fault, since concurrent requests reach the server in a
timing-dependent order.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.emulator import EmulatorSettings
from support.factories import key_attributes

APPS = ("6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21", "0c7f7c52-9d37-4a6a-8b1e-2f0a4f3c5d10")
DEVICES = ("desktop", "mobile", "tablet")

#: The fields of `Faults` that are the world's, not the API's (the emulator's names).
WORLD = (
    "list_lag_ms",
    "repeat_ids_rate",
    "create_without_id_rate",
    "concurrent_writer_rate",
)
Key = tuple[str, str, str, str]  # application_id, view_name, device_type, snapshot_name


def key_of(attributes: dict[str, Any]) -> Key:
    return (
        attributes["application_id"],
        attributes["view_name"],
        attributes["device_type"],
        attributes["snapshot_name"],
    )


@dataclass(frozen=True)
class Faults:
    fail_rate: float
    latency_ms: float
    drop_after_commit_rate: float
    rate_limit: int | None
    # Faults of the second apply (the "harsh first apply" profile softens them).
    second_fail_rate: float
    second_drop_rate: float
    # The world outside the executor's design: listings that lag writes, a listed item
    # repeated (same id), a committed create answered 201 without an id (or body), and
    # another writer creating the same snapshot as a create.
    list_lag_ms: float = 0.0
    repeat_ids_rate: float = 0.0
    create_without_id_rate: float = 0.0
    concurrent_writer_rate: float = 0.0

    def describe(self) -> str:
        limit = "none" if self.rate_limit is None else f"{self.rate_limit}/s"
        return (
            f"5xx {self.fail_rate:.2f}, drop {self.drop_after_commit_rate:.2f}, latency "
            f"{self.latency_ms:.1f} ms, rate limit {limit}, lag {self.list_lag_ms:.0f} ms, "
            f"repeated ids {self.repeat_ids_rate:.2f}, 201 without id "
            f"{self.create_without_id_rate:.2f}, concurrent writer "
            f"{self.concurrent_writer_rate:.2f}; second apply 5xx "
            f"{self.second_fail_rate:.2f}, drop {self.second_drop_rate:.2f}"
        )

    def world(self) -> dict[str, float]:
        """The world faults, as emulator settings."""
        return {name: getattr(self, name) for name in WORLD}


@dataclass
class Scenario:
    seed: int
    remote: list[dict[str, Any]]  # attributes to seed, in creation order (oldest first)
    desired: dict[str, dict[str, list[dict[str, Any]]]]  # app -> view -> entries
    managed: set[tuple[str, str]]
    faults: Faults
    parallelism: int
    kinds: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items()))
        return (
            f"seed {self.seed}: {len(self.remote)} remote / {self.desired_count()} desired "
            f"snapshots over {len(self.managed)} managed views ({kinds}); "
            f"{self.faults.describe()}; parallelism {self.parallelism}. "
            f"Reproduce: pytest tests/chaos --chaos-seed {self.seed}"
        )

    def desired_count(self) -> int:
        return sum(len(entries) for views in self.desired.values() for entries in views.values())

    def desired_by_key(self) -> dict[Key, dict[str, Any]]:
        found: dict[Key, dict[str, Any]] = {}
        for app, views in self.desired.items():
            for view, entries in views.items():
                for entry in entries:
                    found[(app, view, entry["device_type"], entry["snapshot_name"])] = entry
        return found


def _fields(rng: random.Random, optional: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_id": f"evt-{rng.randrange(10**6):06d}",
        "start": rng.randrange(0, 10**6),
        "is_device_type_selected_by_user": rng.random() < 0.3,
    }
    if optional and rng.random() < 0.4:
        values["session_id"] = f"sess-{rng.randrange(10**6)}"
    if optional and rng.random() < 0.3:
        values["view_id"] = f"vid-{rng.randrange(10**6)}"
    return values


def _mutate(rng: random.Random, values: dict[str, Any]) -> dict[str, Any]:
    """Change at least one managed field."""
    changed = dict(values)
    choice = rng.choice(("event_id", "start", "is_device_type_selected_by_user", "session_id"))
    if choice == "event_id":
        changed["event_id"] = values["event_id"] + "-new"
    elif choice == "start":
        changed["start"] = values["start"] + 1 + rng.randrange(1000)
    elif choice == "is_device_type_selected_by_user":
        changed["is_device_type_selected_by_user"] = not values["is_device_type_selected_by_user"]
    else:
        changed["session_id"] = str(values.get("session_id", "sess")) + "-new"
    return changed


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    apps = APPS[: rng.randint(1, 2)]
    managed = [(app, f"/m{index}") for app in apps for index in range(rng.randint(1, 3))]
    # Unmanaged views, some sharing a managed view's name in another app, or the other way.
    unmanaged = [(apps[0], "/unmanaged"), (APPS[1] if len(apps) == 1 else APPS[0], "/m0-not")]
    if len(apps) == 1:
        unmanaged.append((APPS[1], "/m0"))  # same view name, an application not declared
    size = rng.randint(10, 60)
    remote: list[dict[str, Any]] = []
    desired: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for app, view in managed:
        desired.setdefault(app, {})[view] = []
    kinds: Counter[str] = Counter()
    weights = {
        "keep": 30,
        "patch": 20,
        "delete": 12,
        "create": 15,
        "rekey": 10,
        "duplicate": 8,
        "unmanaged": 10,
    }
    names = list(weights)
    counter = 0
    for _ in range(size):
        kind = rng.choices(names, [weights[n] for n in names])[0]
        kinds[kind] += 1
        counter += 1
        name = f"s{counter:03d} {rng.choice(('hero', 'cart', 'ünïcode ✓', 'a/b', 'x' * 40))}"
        device = rng.choice(DEVICES)
        values = _fields(rng, optional=True)
        if kind == "unmanaged":
            app, view = rng.choice(unmanaged)
            remote.append(_attributes(app, view, device, name, values))
            continue
        app, view = rng.choice(managed)
        entries = desired[app][view]
        if kind in ("keep", "patch", "duplicate"):
            copies = rng.randint(2, 3) if kind == "duplicate" else 1
            for copy in range(copies):
                # Duplicates differ from each other now and then: keep one, patch it.
                seeded = values if copy == 0 or rng.random() < 0.5 else _mutate(rng, values)
                remote.append(_attributes(app, view, device, name, seeded))
            wanted = _mutate(rng, values) if kind == "patch" or rng.random() < 0.2 else values
            if kind == "duplicate" and rng.random() < 0.2:
                kinds["duplicate undeclared"] += 1
                continue  # an undeclared duplicated key: every copy goes
            entries.append(_entry(device, name, wanted))
        elif kind == "delete":
            remote.append(_attributes(app, view, device, name, values))
        elif kind == "create":
            entries.append(_entry(device, name, values))
        else:  # rekey: the old snapshot goes, one with the new key comes
            remote.append(_attributes(app, view, device, name, values))
            if rng.random() < 0.5:
                new_device, new_name = rng.choice([d for d in DEVICES if d != device]), name
            else:
                new_device, new_name = device, name + " renamed"
            entries.append(_entry(new_device, new_name, values))
    if rng.random() < 0.2:  # a managed view declared empty: everything in it goes
        app = rng.choice(apps)
        desired[app].setdefault("/emptied", [])
        managed.append((app, "/emptied"))
        for index in range(rng.randint(1, 4)):
            remote.append(
                _attributes(app, "/emptied", "desktop", f"gone {index}", _fields(rng, False))
            )
            kinds["emptied"] += 1
    rng.shuffle(remote)  # creation order decides which duplicate is the oldest
    harsh = rng.random() < 0.15
    fail = rng.uniform(0.3, 0.5) if harsh else rng.choice((0.0, rng.uniform(0.0, 0.15)))
    drop = rng.uniform(0.1, 0.25) if harsh else rng.choice((0.0, rng.uniform(0.0, 0.08)))
    # A tight limit, near the parallelism: requests are paced by the rate-limit headers.
    # (The client sends 4 per bucket before it has seen any header, `reconciler.api.inflight`,
    # so it provokes no 429 here; a limit below that would, at 2-3 requests a second, make
    # a scenario last a minute. 429 handling is tested in tests/client.)
    tight = rng.random() < 0.1
    limit = rng.randint(6, 8) if tight else rng.choice((None, None, None, rng.randint(15, 40)))
    # World faults drawn after the others, so the older profile of a seed is unchanged.
    world = random.Random(seed * 7919 + 1)
    faults = Faults(
        list_lag_ms=world.choice((0.0, 0.0, 0.0, 30.0, 100.0)),
        repeat_ids_rate=world.choice((0.0, 0.0, 0.05)),
        create_without_id_rate=world.choice((0.0, 0.1, 0.3)),
        concurrent_writer_rate=world.choice((0.0, 0.1, 0.3)),
        fail_rate=fail,
        latency_ms=rng.choice((0.0, 0.0, rng.uniform(0.5, 4.0))),
        drop_after_commit_rate=drop,
        rate_limit=limit,
        second_fail_rate=rng.uniform(0.0, 0.05) if harsh else fail,
        second_drop_rate=rng.uniform(0.0, 0.03) if harsh else drop,
    )
    return Scenario(
        seed=seed,
        remote=remote,
        desired=desired,
        managed=set(managed),
        faults=faults,
        parallelism=8 if tight else rng.choice((1, 2, 4, 8)),
        kinds=kinds,
    )


def _entry(device: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"snapshot_name": name, "device_type": device, **values}


def _attributes(
    app: str, view: str, device: str, name: str, values: dict[str, Any]
) -> dict[str, Any]:
    return {**key_attributes(name, view, device, app), **values}


def reset_server(url: str, settings: EmulatorSettings, seed: int, **config: Any) -> None:
    """Clear the store, stats and rate-limit windows; reseed the faults; set the config."""
    settings.seed = seed
    defaults = {
        "fail_rate": 0.0,
        "latency_ms": 0.0,
        "drop_after_commit_rate": 0.0,
        "rate_limit": None,
        "rate_period": 1,
        "list_lag_ms": 0.0,
        "repeat_ids_rate": 0.0,
        "create_without_id_rate": 0.0,
        "concurrent_writer_rate": 0.0,
    }
    httpx.post(f"{url}/_emulator/config", json=defaults | config).raise_for_status()
    httpx.post(f"{url}/_emulator/reset").raise_for_status()
