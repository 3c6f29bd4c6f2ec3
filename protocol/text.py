"""The text play grammar: one short typed line from a stock Meshtastic app -> one Intent.

The parser cannot see the game state, so names stay as typed (`Ref` strings) and the
rules engine matches them forgivingly. It only needs content names to decide where a
multi-word spell or weapon name ends and the target begins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from protocol.errors import ProtocolError
from rules import intents as i
from rules.names import BIDI_REFUSAL, has_bidi_controls

MAX_BYTES = 200
MAX_CHAIN = 3  # commands in one message ("atk gob1; end")
HINT = "try: atk <target>, cast <spell> [target], look, help"

HELP_LINES: dict[str | None, str] = {
    None: "look, n s e w u d, go <exit>, atk <t> [wpn], cast <spell> [t], dodge, dash, dis, "
    "hide, search, help <ally>, use <item> [t], roll <x>, hp, sheet, inv, rest, end, say, "
    "level, shop. help <cmd>",
    "join": "join <name> <class> [level]: play at once, e.g. join Thorin fighter",
    "make": "make <name> class|race|stats|skills|bg|kit|asi|pick <choice>, then join <name> <class>: "
    "e.g. make Mira class wizard",
    "look": "look (l): describe the room, exits and creatures",
    "move": "n s e w u d, or go <exit>: walk through an exit, e.g. go door",
    "atk": "atk <target> [weapon] (a, attack): e.g. atk gob1, atk gob1 longbow",
    "cast": "cast <spell> [target] [@lvl] [metamagic] (c): e.g. cast fire bolt gob1, "
    "cast cure wounds mira @2, cast fireball quickened gob1, cast hold person twinned g1 g2",
    "use": "use <item|feature> [target]: e.g. use second wind, use potion mira",
    "roll": "roll <skill|save|dice>: e.g. roll stealth, roll dex save, roll 2d6+1",
    "actions": "dodge, dash, dis(engage), hide, search, help <ally>, grapple <t>, shove <t>",
    "rest": "rest short | rest long",
    "say": "say <text>: speak to everyone in the room",
    "end": "end: end your turn",
    "info": "hp, sheet, inv, status, spells [level]: answered privately",
    "level": "level <class>: your next level's class (multiclassing), e.g. level wizard; "
    "level asi str dex, or level feat grappler: your next improvement",
    "shop": "shop [page]: the open shop's wares; buy <item>, sell <item> (half price)",
}
_HELP_ALIASES = {
    "a": "atk", "attack": "atk", "c": "cast", "l": "look", "go": "move", "n": "move",
    "s": "move", "e": "move", "w": "move", "u": "move", "d": "move", "dodge": "actions",
    "dash": "actions", "dis": "actions", "disengage": "actions", "hide": "actions",
    "search": "actions", "grapple": "actions", "shove": "actions", "hp": "info",
    "sheet": "info", "inv": "info", "status": "info", "spells": "info", "commands": None,
    "buy": "shop", "sell": "shop",
}


def help_text(topic: str | None = None) -> str:
    """One help line (<= 200 bytes) for a topic or command, or the command list."""
    key = None if topic is None else topic.strip().lower()
    key = _HELP_ALIASES.get(key, key) if key is not None else None
    return HELP_LINES.get(key, HELP_LINES[None])


_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DIRECTIONS = {"n": "n", "s": "s", "e": "e", "w": "w", "u": "u", "d": "d", "north": "n",
               "south": "s", "east": "e", "west": "w", "up": "u", "down": "d"}
_SIMPLE: dict[str, Callable[[], object]] = {
    "look": i.Look, "l": i.Look, "dodge": i.Dodge, "dash": i.Dash, "dis": i.Disengage,
    "disengage": i.Disengage, "hide": i.Hide, "search": i.Search, "end": i.EndTurn,
    "done": i.EndTurn, "pass": i.EndTurn,
}
_QUERIES = {"hp": "hp", "sheet": "sheet", "inv": "inv", "inventory": "inv", "i": "inv",
            "status": "status", "st": "status", "spells": "spells"}
_LEVEL = re.compile(r"^(?:@|l|lvl|lv)(\d)$", re.IGNORECASE)


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.split(r"[\s\-/]+", name.lower()) if w)


@cache
def _content_names(kind: str) -> tuple[str, ...]:
    try:
        import rules.content as content

        items = getattr(content, kind)()
    except Exception:  # content not available: fall back to word-count heuristics
        return ()
    names = set(items)
    names |= {v["name"] for v in items.values() if isinstance(v, dict) and "name" in v}
    return tuple(sorted(names))


def names_match(words: Sequence[str], names: Iterable[str]) -> bool:
    """Do these words name one of `names` strongly: exact, index, prefix (3+) or initials?"""
    joined = " ".join(words)
    q = _norm(joined)
    if not q:
        return False
    for name in names:
        n = _norm(name)
        if q == n or (len(q) >= 3 and n.startswith(q)):
            return True
        if len(words) == 1 and len(q) >= 2 and q == _initials(name):
            return True
    return False


def split_name(words: Sequence[str], names: Sequence[str]) -> tuple[str, str | None]:
    """(name, rest) where name is the longest word prefix that names something in `names`."""
    for k in range(len(words), 0, -1):
        if names_match(words[:k], names):
            rest = " ".join(words[k:]) or None
            return " ".join(words[:k]), rest
    try:
        from rules.fuzzy import best_match  # forgiving match for typos ("firebolt", "fyre bolt")

        for k in range(len(words), 0, -1):
            if best_match(" ".join(words[:k]), names) is not None:
                return " ".join(words[:k]), " ".join(words[k:]) or None
    except ImportError:
        pass
    # Nothing known: a lone word is the name; otherwise the last word is the target.
    if len(words) == 1:
        return words[0], None
    return " ".join(words[:-1]), words[-1]


def _ref(s: str) -> i.Ref:
    return int(s[1:]) if re.fullmatch(r"#\d{1,9}", s) else s


def parse(line: str) -> object:
    """The intent a typed line asks for, or ProtocolError with a one-line hint."""
    if not isinstance(line, str):
        raise ProtocolError("expected text")
    if len(line.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ProtocolError(f"too long: keep commands under {MAX_BYTES} bytes")
    if _CTRL.search(line):
        raise ProtocolError("control characters are not allowed")
    if has_bidi_controls(line):
        raise ProtocolError(BIDI_REFUSAL)
    words = line.split()
    if not words:
        raise ProtocolError(f"empty command; {HINT}")
    verb, args = words[0].lower(), words[1:]
    if verb in _SIMPLE and not args:
        return _SIMPLE[verb]()
    if verb in _DIRECTIONS and not args:
        return i.Move(_DIRECTIONS[verb])
    if verb in _QUERIES and not args:
        return i.Query(_QUERIES[verb])
    handler = _VERBS.get(verb)
    if handler is None:
        return _feature_or_hint(words)
    return handler(args)


def _feature_names() -> tuple[str, ...]:
    try:
        from rules.effects import featurebook

        return tuple(featurebook.names())
    except Exception:  # rules not available: the radio grammar still parses
        return ()


def _feature_or_hint(words: list[str]) -> object:
    """A feature by its own name is a use (`second wind`, `rage`, `smite gob1`); anything
    else unknown gets the nearest commands and features as "did you mean"."""
    feats = _feature_names() + _FEATURES
    for k in range(len(words), 0, -1):
        if names_match(words[:k], feats):
            rest = " ".join(words[k:])
            return i.Use(item=" ".join(words[:k]), target=_ref(rest) if rest else None)
    try:
        from rules.fuzzy import suggest

        near = suggest(words[0], list(_VERBS) + list(_SIMPLE), 2)
        near += [f for f in suggest(" ".join(words[:3]), feats, 2) if f not in near]
    except ImportError:
        near = []
    hint = f"did you mean {', '.join(near)}?" if near else HINT
    raise ProtocolError(f"unknown command {words[0][:20]!r}; {hint}")


def parse_chain(line: str) -> list[object]:
    """The intents of a line of up to MAX_CHAIN commands joined by ';', run in order.

    On a slow radio every message is a wait: `atk gob1; end` does a turn in one. `say`
    takes the rest of the line, semicolons and all.
    """
    if not isinstance(line, str):
        raise ProtocolError("expected text")
    parts = line.split(";")
    intents: list[object] = []
    for n, part in enumerate(parts):
        if not part.strip() and n == len(parts) - 1 and intents:
            break  # a trailing ';'
        first = part.split(maxsplit=1)[:1]
        if first and first[0].lower() in _SAY_VERBS:
            intents.append(parse(";".join(parts[n:])))
            break
        if len(intents) == MAX_CHAIN:
            raise ProtocolError(f"at most {MAX_CHAIN} commands in one message, joined by ';'")
        try:
            intents.append(parse(part))
        except ProtocolError as err:
            if len(parts) == 1:
                raise
            raise ProtocolError(f"command {n + 1}: {err}") from None
    return intents


def _need(args: list[str], usage: str) -> None:
    if not args:
        raise ProtocolError(f"usage: {usage}")


def _help(args: list[str]) -> object:
    if not args:
        return i.Query("help")
    if len(args) == 1 and args[0].lower() in HELP_LINES | _HELP_ALIASES:
        return i.Query(f"help {args[0].lower()}")
    return i.HelpAlly(_ref(" ".join(args)))


def _join(args: list[str]) -> object:
    if len(args) < 2:
        raise ProtocolError("usage: join <name> <class> [level], e.g. join Thorin fighter")
    level = 1
    if len(args) >= 3 and args[-1].isdigit():
        level = int(args[-1])
        args = args[:-1]
    if not 1 <= level <= 20:
        raise ProtocolError("level must be 1-20")
    return i.Join(name=" ".join(args[:-1]), cls=args[-1].lower(), level=level)


def _make(args: list[str]) -> object:
    if len(args) < 3:
        raise ProtocolError("usage: make <name> class|race|stats|skills|bg|kit|asi|pick <choice>")
    return i.Make(name=args[0], step=args[1].lower(), value=" ".join(args[2:]))


def _go(args: list[str]) -> object:
    _need(args, "go <exit>, e.g. go n or go door")
    exit_ = " ".join(args)
    return i.Move(_DIRECTIONS.get(exit_.lower(), exit_))


def _attack(args: list[str]) -> object:
    _need(args, "atk <target> [weapon], e.g. atk gob1")
    target, weapon = _ref(args[0]), " ".join(args[1:]) or None
    if weapon and weapon.lower().startswith("with "):
        weapon = weapon[5:] or None
    return i.Attack(target=target, weapon=weapon)


def _cast(args: list[str]) -> object:
    _need(args, "cast <spell> [target], e.g. cast fire bolt gob1")
    level = None
    if len(args) > 1 and (m := _LEVEL.match(args[-1])):
        level = int(m.group(1))
        args = args[:-1]
    meta = tuple(w.lower() for w in args if w.lower() in CAST_OPTIONS)
    args = [w for w in args if w.lower() not in CAST_OPTIONS]
    _need(args, "cast <spell> [target] [metamagic], e.g. cast fireball quickened gob1")
    spell, target = split_name(args, _content_names("spells"))
    twin = None
    if "twinned" in meta and target and len(target.split()) == 2:
        target, twin = target.split()
    return i.Cast(spell=spell, target=None if target is None else _ref(target), level=level,
                  meta=meta, twin=None if twin is None else _ref(twin))


# Words a cast may carry anywhere after `cast`: the SRD's metamagic options and the
# evoker's Overchannel (rules/metamagic.py says what each does).
CAST_OPTIONS = ("careful", "distant", "empowered", "extended", "heightened", "quickened",
                "subtle", "twinned", "overchannel")


def _use(args: list[str]) -> object:
    _need(args, "use <item|feature> [target], e.g. use second wind")
    item, target = split_name(args, _content_names("weapons") + _feature_names() + _FEATURES)
    return i.Use(item=item, target=None if target is None else _ref(target))


_FEATURES = (
    "second wind", "action surge", "rage", "bardic inspiration", "channel divinity",
    "lay on hands", "wild shape", "cunning action", "healing potion", "potion of healing",
    "potion", "torch", "rope", "key", "holy water", "antitoxin", "healer's kit",
)


def _level(args: list[str]) -> object:
    words = [a.lower() for a in args]
    if words[:1] in (["asi"], ["feat"]) and len(words) > 1:
        return i.Advance(improve=" ".join(words[1:]))
    if words == ["grappler"]:
        return i.Advance(improve="grappler")
    if len(words) != 1:
        raise ProtocolError("usage: level <class> | level asi <ab> <ab> | level feat grappler")
    return i.Advance(words[0])


def _spells(args: list[str]) -> object:
    if len(args) == 1 and args[0].isdigit() and 0 <= int(args[0]) <= 9:
        return i.Query(f"spells {int(args[0])}")
    raise ProtocolError("usage: spells [level], e.g. spells 2")


def _shop(args: list[str]) -> object:
    if not args:
        return i.Query("shop")
    if len(args) == 1 and args[0].isdigit() and 0 < int(args[0]) < 1000:
        return i.Query(f"shop {int(args[0])}")
    raise ProtocolError("usage: shop [page], e.g. shop 2")


def _trade(op: str) -> Callable[[list[str]], object]:
    def build(args: list[str]) -> object:
        _need(args, f"{op} <item>, e.g. {op} torch")
        return i.Trade(op, " ".join(args))

    return build


def _roll(args: list[str]) -> object:
    _need(args, "roll <skill|save|dice>, e.g. roll stealth, roll dex save, roll 2d6+1")
    return i.Roll(what=" ".join(args).lower())


def _one_target(cls: type, usage: str) -> Callable[[list[str]], object]:
    def build(args: list[str]) -> object:
        _need(args, usage)
        return cls(_ref(" ".join(args)))

    return build


def _say(args: list[str]) -> object:
    _need(args, "say <text>")
    return i.Say(" ".join(args))


def _rest(args: list[str]) -> object:
    kind = args[0].lower() if len(args) == 1 else ""
    if kind in ("short", "s", "sr"):
        return i.Rest("short")
    if kind in ("long", "lr"):
        return i.Rest("long")
    raise ProtocolError("usage: rest short | rest long")


def _no_args(verb: str) -> Callable[[list[str]], object]:
    def build(args: list[str]) -> object:
        raise ProtocolError(f"usage: {verb} (no arguments)")

    return build


_VERBS: dict[str, Callable[[list[str]], object]] = {
    "help": _help, "h": _help, "?": _help,
    "join": _join,
    "make": _make,
    "go": _go, "move": _go,
    "atk": _attack, "attack": _attack, "a": _attack, "hit": _attack,
    "cast": _cast, "c": _cast,
    "use": _use,
    "roll": _roll, "r": _roll,
    "grapple": _one_target(i.Grapple, "grapple <target>"),
    "shove": _one_target(i.Shove, "shove <target>"),
    "approach": _one_target(i.Approach, "approach <target>"),
    "close": _one_target(i.Approach, "close <target>"),
    "say": _say, "'": _say,
    "rest": _rest,
    "level": _level, "lvl": _level,
    "shop": _shop, "buy": _trade("buy"), "sell": _trade("sell"), "spells": _spells,
    # bare words that take no arguments; reached only when arguments were given
    **{v: _no_args(v) for v in list(_SIMPLE) + list(_DIRECTIONS) + list(_QUERIES)
       if v != "spells"},
}
_SAY_VERBS = frozenset(v for v, fn in _VERBS.items() if fn is _say)
