"""warm_up: what serve builds at start-up is built for the current commit, so the first
visitor of each page does not wait for it; a builder that fails is logged and skipped."""

from __future__ import annotations

import json
import logging
import time

from endpoint_live import LiveServer

from practicebank.endpoint import create_app, warm_up
from practicebank.endpoint.per_commit import current_version
from practicebank.store import PracticeStore


def test_warm_builds_every_per_commit_value_for_the_current_commit(demo_store, caplog):
    app = create_app({"TESTING": True, "STORE": demo_store})
    caplog.set_level(logging.INFO, logger="practicebank.endpoint.warm_up")
    thread = warm_up.start(app)
    thread.join(120)
    assert not thread.is_alive()
    assert app.test_client().get("/health").get_json()["warming"] is False
    built = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Built ")]
    assert len(built) == len(warm_up._builders()), built
    from practicebank.endpoint import resource_pages, text_index
    with app.app_context():
        version = current_version()
        assert text_index.INDEXES.entries["text"][0] == version
        assert any(v == version for v, _ in resource_pages.ORDERS.entries.values())
        assert app.extensions["browse.index"].entries["practices"][0] == version


def test_a_failing_builder_is_logged_and_the_others_still_run(demo_store, caplog,
                                                             monkeypatch):
    app = create_app({"TESTING": True, "STORE": demo_store})
    real = warm_up._builders()

    def broken() -> None:
        raise RuntimeError("no store today")

    monkeypatch.setattr(warm_up, "_builders", lambda: (("a broken thing", broken), *real))
    caplog.set_level(logging.INFO, logger="practicebank.endpoint.warm_up")
    warm_up.warm(app)
    messages = [r.getMessage() for r in caplog.records]
    assert "Could not build a broken thing at start-up" in messages
    assert sum(m.startswith("Built ") for m in messages) == len(real)


def test_serve_warms_up_and_health_says_when_it_is_done(demo_store, tmp_path):
    """``practicebank serve`` starts the builds itself; /health reports them until done, and
    a page that needs one is then answered from what was built."""
    with PracticeStore(tmp_path / "store") as disk:
        disk.ox.bulk_extend(demo_store.ox)
    with LiveServer(tmp_path / "store", tmp_path, "--workers", "1") as server:
        deadline = time.monotonic() + 120
        while True:
            health = json.loads(server.request("GET", f"{server.base}/health")[2])
            if not health["warming"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert health["warming"] is False, "the start-up builds did not finish in 2 minutes"
        status, _, body = server.request("GET", f"{server.base}/practices?rating=promising")
        assert status == 200 and b"practices" in body
