"""Forgiving name matching for typed commands: spells, monsters and in-game targets ("gob1", "fb")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WORD_RE = re.compile(r"[a-z]+|\d+")
_TRAILING_NUM_RE = re.compile(r"^(.*?)(\d+)$")

# Tiers, best first. A lower number always beats a higher one. OTHER_NUMBER (suggestions
# only) is a numbered name whose number differs: "gob3" may hint at Gob1, never hit it.
EXACT, SLUG, PREFIX, INITIALS, NUMBERED, SUBSTRING, EDIT, OTHER_NUMBER, STEM = range(9)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Lowercase and drop everything but letters and digits: 'Fire-Bolt ' -> 'firebolt'."""
    return "".join(_WORD_RE.findall(text.lower()))


@lru_cache(maxsize=4096)
def _initials(name: str) -> str:
    return "".join(w[0] for w in _WORD_RE.findall(name.lower()) if not w.isdigit())


def _split_number(norm: str) -> tuple[str, int] | None:
    m = _TRAILING_NUM_RE.match(norm)
    if not m or not m.group(1):
        return None
    return m.group(1), int(m.group(2))


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (limit + 1) once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _letter_gap(a: str, b: str) -> int:
    """Distinct letters in one string only; one edit changes at most two of them."""
    return len(set(a) ^ set(b))


def _edit_limit(query: str) -> int:
    return 0 if len(query) < 3 else 1 if len(query) < 6 else 2


def _rank(query: str, q: str, name: str, loose: bool) -> tuple[int, int] | None:
    """(tier, detail) for one candidate, or None when it does not match at all."""
    n = normalize(name)
    if not n:
        return None
    if name.strip().lower() == query.strip().lower():
        return (EXACT, 0)
    if n == q:
        return (SLUG, 0)
    qs, ns = _split_number(q), _split_number(n)
    if qs and ns and qs[1] != ns[1]:
        # The number names one entity: "gob1" must never pick Gob10 or Gob2.
        same_stem = ns[0].startswith(qs[0]) or qs[0].startswith(ns[0])
        return (OTHER_NUMBER, 0 if same_stem else 1) if loose else None
    if n.startswith(q):
        return (PREFIX, len(n) - len(q))
    if len(q) >= 2 and _initials(name) == q:
        return (INITIALS, 0)
    if qs and ns and (ns[0].startswith(qs[0]) or qs[0].startswith(ns[0])):
        return (NUMBERED, abs(len(n) - len(q)))
    if len(q) >= 3 and q in n:
        return (SUBSTRING, len(n) - len(q))
    limit = _edit_limit(q) if not loose else max(2, len(q) // 2)
    if limit and abs(len(n) - len(q)) <= limit and _letter_gap(q, n) <= 2 * limit:
        d = _edit_distance(q, n, limit)
        if d <= limit:
            return (EDIT, d)
    if loose and len(q) >= 3 and n.startswith(q[:3]):
        # Only for hints: "gobbo" is far from "goblin" by edits but plainly meant it.
        return (STEM, abs(len(n) - len(q)))
    return None


def _ranked(query: str, names: Iterable[str], loose: bool) -> list[str]:
    q = normalize(query)
    if not q:
        return []
    scored = []
    for order, name in enumerate(dict.fromkeys(names)):
        r = _rank(query, q, name, loose)
        if r is not None:
            scored.append((r, order, name))
    scored.sort()
    return [s[-1] for s in scored]


def best_match(query: str, names: Iterable[str]) -> str | None:
    """The single best forgiving match for query among names, or None.

    Order of preference: exact (ignoring case) > same letters and digits ("fire-bolt")
    > prefix > initials ("fb" -> "Fire Bolt") > same trailing number with a prefix stem
    ("gob1" -> "Goblin 1") > substring > small edit distance. A trailing number must
    agree when both have one ("gob1" never picks Gob10 or Gob2). Within a tier, a closer
    length wins, then the earlier name: callers list names most-likely first (the
    content loader lists spells by level, so "mm" is Magic Missile, not Magic Mouth).
    """
    ranked = _ranked(query, names, loose=False)
    return ranked[0] if ranked else None


def suggest(query: str, names: Iterable[str], n: int = 3) -> list[str]:
    """Up to n names close to query, best first, for 'did you mean ...?' hints."""
    return _ranked(query, names, loose=True)[:n]


def word_matches(query: str, names: Iterable[str]) -> list[str]:
    """Names in which every word of query begins a different word: 'red drag' -> Adult Red
    Dragon, Young Red Dragon ... in the order given. A query of one short fragment under
    three letters matches nothing here (too loose to call a name ambiguous)."""
    q_words = _WORD_RE.findall(query.lower())
    if not q_words or (len(q_words) == 1 and len(q_words[0]) < 3):
        return []
    out = []
    for name in dict.fromkeys(names):
        words = _WORD_RE.findall(name.lower())
        for qw in q_words:
            hit = next((k for k, w in enumerate(words) if w.startswith(qw)), None)
            if hit is None:
                break
            words.pop(hit)
        else:
            out.append(name)
    return out
