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
