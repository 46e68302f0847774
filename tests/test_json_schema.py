"""The fast JSON Schema check (fastjsonschema) and the reference validator (jsonschema) agree
on which practice records are valid, so the fast path never lets through what the reference
would refuse, nor refuses what it would accept."""

from __future__ import annotations

import json
from pathlib import Path

import fastjsonschema
import pytest

from practicebank.loaders.json_practices import quick_check, schema_errors, validator

FIXTURES = Path(__file__).parent / "fixtures"


def records() -> list[object]:
    found: list[object] = []
    for path in sorted(FIXTURES.glob("*.json")) + sorted(FIXTURES.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            for line in text.splitlines():
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        else:
            try:
                document = json.loads(text)
            except json.JSONDecodeError:
                continue
            found += document if isinstance(document, list) else [document]
    base = {"title": "A practice", "rating": "Promising", "purpose": ["Prevention"]}
    found += [
        base,
        {**base, "rating": 3},
        {**base, "title": ""},
        {**base, "purpose": "Prevention"},
        {**base, "topics": [1, 2]},
        {**base, "unexpected": True},
        # version 2 fields: objects where JSON is more natural than a cell, numbers as numbers
        {**base, "ratings": ["Promising@2021-05-01", {"rating": "Worked", "date": "2023"}]},
        {**base, "ratings": [{"date": "2023-02-10"}]},
        {**base, "ratings": [{"rating": "Worked", "when": "2023"}]},
        {**base, "partner_organisations": [{"name": "Home Office", "roles": ["funder"]}]},
        {**base, "partner_organisations": [{"roles": "funder"}]},
        {**base, "lead_organisations": [{"name": "Kent Police", "role": "lead"}]},
        {**base, "cost_gbp": 12500.5, "star_amount_gbp": [50000, "£1,000"]},
        {**base, "cost_gbp": -1},
        {**base, "tilley_year": [2008, "2009"], "tilley_outcome": ["Winner", "Finalist"]},
        {**base, "tilley_year": 2008.5},
        {**base, "hmicfrs_report_url": "not a url"},
        {**base, "same_intervention_as": ["a-practice", 3]},
        {"rating": "Promising"},
        [],
        "not an object",
    ]
    return found


@pytest.mark.parametrize("record", records(), ids=lambda r: json.dumps(r)[:40])
def test_fast_and_reference_validators_agree(record):
    reference_valid = not list(validator().iter_errors(record))
    try:
        quick_check()(record)
        fast_valid = True
    except fastjsonschema.JsonSchemaException:
        fast_valid = False
    assert fast_valid == reference_valid
    assert (schema_errors(record) == []) == reference_valid
