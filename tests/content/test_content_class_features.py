"""class_features.toml and class_resources.toml agree with classes.json and features.toml."""

from __future__ import annotations

from rules import classfeatures, content, levels
from rules.effects import featurebook


def test_every_feature_is_listed_once() -> None:
    t = classfeatures.table()
    seen: dict[str, str] = {}
    for kind, rows in t.items():
        for k in rows:
            assert k not in seen, (k, kind, seen.get(k))
            seen[k] = kind
    listed = {f["index"] for c in content.classes().values() for f in c["features"]}
    assert listed == set(seen)


def test_each_kind_points_at_something_real() -> None:
    t = classfeatures.table()
    keys = {f.key for f in featurebook.book().values()}
    assert set(t["use"].values()) <= keys
    for rule in t["table"].values():
        kind, _, res = rule.partition(":")
        if kind == "resource":
            assert any(res in r for r in levels.resource_table().values()), rule
        else:
            assert rule in classfeatures.TABLE_RULES, rule
    for p in t["passive"].values():
        assert set(p) <= classfeatures.PASSIVE_KEYS, p
        for _, spell in p.get("spells", ()):
            assert spell in content.spells(), spell
    assert all(0 < len(v) <= 100 for v in t["adjudicate"].values())  # one-line prompts


def test_resources_name_class_table_keys() -> None:
    for cls, rows in levels.resource_table().items():
        spec = content.classes()[cls]["levels"]["20"]["class_specific"]
        for name, d in rows.items():
            if "key" in d:
                assert d["key"] in spec, (cls, name)
