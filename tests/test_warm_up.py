"""warm_up: what serve builds at start-up is built for the current commit, so the first
visitor of each page does not wait for it; a builder that fails is logged and skipped."""

from __future__ import annotations

import logging

from practicebank.endpoint import create_app, warm_up
from practicebank.endpoint.per_commit import current_version


def test_warm_builds_every_per_commit_value_for_the_current_commit(demo_store, caplog):
    app = create_app({"TESTING": True, "STORE": demo_store})
    caplog.set_level(logging.INFO, logger="practicebank.endpoint.warm_up")
    warm_up.start(app).join(120)
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
