"""PerCommit: one build per commit, in the request when it is quick and in the background
(the previous value served meanwhile) when it is slow; no deadlock when a build reads
another value; a shared store's values kept for SHARED_REBUILD."""

from __future__ import annotations

import threading
import time

from practicebank.endpoint import create_app
from practicebank.endpoint.per_commit import (
    BUILD_IN_REQUEST,
    SHARED_REBUILD,
    PerCommit,
    current_version,
)
from practicebank.endpoint.runtime import get_runtime
from practicebank.store import PracticeStore


def test_a_quick_value_is_rebuilt_in_the_request_that_notices_the_commit():
    """Small stores: a writer reads its own write."""
    cache: PerCommit[int] = PerCommit()
    builds: list[int] = []

    def build(n: int):
        return lambda: builds.append(n) or n

    assert cache.get("k", build(1), version=1) == 1
    assert cache.get("k", build(2), version=1) == 1  # same version: no build
    assert cache.get("k", build(3), version=2) == 3  # new version: built now
    assert builds == [1, 3]


def test_a_slow_value_is_rebuilt_in_the_background_while_the_old_one_is_served():
    cache: PerCommit[int] = PerCommit()
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(10)
        return 2

    assert cache.get("k", lambda: 1, version=1) == 1
    cache.took["k"] = BUILD_IN_REQUEST  # as if the last build had taken that long
    assert cache.get("k", slow, version=2) == 1  # at once, the previous value
    assert started.wait(10), "no background build"
    assert cache.get("k", lambda: 3, version=2) == 1  # still building: no second build
    release.set()
    deadline = time.monotonic() + 10
    while cache.get("k", lambda: 4, version=2) != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("k", lambda: 4, version=2) == 2


def test_a_failed_background_build_keeps_the_old_value_and_is_tried_again():
    cache: PerCommit[int] = PerCommit()
    assert cache.get("k", lambda: 1, version=1) == 1
    cache.took["k"] = BUILD_IN_REQUEST

    def broken() -> int:
        raise RuntimeError("the store went away")

    assert cache.get("k", broken, version=2) == 1
    deadline = time.monotonic() + 10
    while cache._lock_of("k").locked() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("k", lambda: 5, version=2) == 1  # the retry runs in the background
    while cache.entries["k"][0] != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("k", lambda: 6, version=2) == 5


def test_a_build_may_read_another_key_of_the_same_cache():
    cache: PerCommit[int] = PerCommit()
    done = threading.Event()

    def outer() -> None:
        assert cache.get("a", lambda: cache.get("b", lambda: 2, version=1) + 1, version=1) == 3
        done.set()

    threading.Thread(target=outer, daemon=True).start()
    assert done.wait(10), "a nested build deadlocked"


def test_the_version_follows_commits_and_a_shared_store_period(monkeypatch):
    app = create_app({"TESTING": True, "STORE": PracticeStore()})
    with app.app_context():
        runtime = get_runtime()
        before = current_version()
        runtime.freshness.bump()
        assert current_version() != before
        monkeypatch.setattr(runtime, "shared", True)
        now = time.monotonic()
        monkeypatch.setattr(time, "monotonic", lambda: now)
        kept = current_version()
        monkeypatch.setattr(time, "monotonic", lambda: now + SHARED_REBUILD)
        assert current_version() != kept
