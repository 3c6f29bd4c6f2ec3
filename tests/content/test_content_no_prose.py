"""The bundled JSON carries numbers and names only: no descriptions, no flavour text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

PROSE_KEYS = {"desc", "description", "higher_level", "flavor", "text", "material", "special"}
JSON_FILES = sorted(
    p.name for p in resources.files("rules.content").iterdir() if p.name.endswith(".json")
)


def _walk(node: Any) -> Iterator[tuple[str | None, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield None, v
            yield from _walk(v)


def test_all_expected_files_are_bundled():
    assert set(JSON_FILES) >= {
        "monsters.json", "spells.json", "classes.json", "weapons.json", "armor.json",
        "skills.json", "conditions.json", "damage_types.json",
    }


@pytest.mark.parametrize("name", JSON_FILES)
def test_no_prose_anywhere(name):
    data = json.loads(resources.files("rules.content").joinpath(name).read_text("utf-8"))
    for key, value in _walk(data):
        assert key not in PROSE_KEYS, (name, key)
        if isinstance(value, str):
            # Names and short qualifiers only: no sentences.
            assert len(value) <= 100, (name, key, value)
            assert not re.search(r"[a-z]\. [A-Z]", value), (name, key, value)


@pytest.mark.parametrize("name", JSON_FILES)
def test_files_are_canonical_json(name):
    """Sorted keys and a fixed layout, so regenerating gives byte-identical files."""
    text = resources.files("rules.content").joinpath(name).read_text("utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_attribution_statement_is_bundled():
    text = resources.files("rules.content").joinpath("ATTRIBUTION.md").read_text("utf-8")
    assert (
        'This work includes material taken from the System Reference Document 5.1 ("SRD 5.1") '
        "by Wizards of the Coast LLC and available at "
        "https://dnd.wizards.com/resources/systems-reference-document. The SRD 5.1 is licensed "
        "under the Creative Commons Attribution 4.0 International License available at "
        "https://creativecommons.org/licenses/by/4.0/legalcode."
    ) in text
    assert "5e-bits/5e-database" in text and "MIT" in text
