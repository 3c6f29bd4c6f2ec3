"""Safe dice notation: d20's parser behind length/dice caps, evaluated with a passed-in RNG."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from rules.errors import RulesError

MAX_EXPR = 64
MAX_DICE = 100
MAX_SIDES = 1000


@dataclass(frozen=True, slots=True)
class RollResult:
    total: int
    text: str
    dice: list[int]


# A compiled expression is a tuple of terms; each term is (sign, count, sides, keep) for
# dice (keep: 0 all, >0 highest n, <0 lowest n) or (sign, 0, value, 0) for a constant.
# Only sums of dice and constants compile to this fast form; anything else keeps its AST.
Term = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Compiled:
    terms: tuple[Term, ...] | None
    ast: object | None
    ndice: int


def _parse(expr: str) -> object:
    import d20  # imported lazily: lark grammar construction is not free

    try:
        return d20.parse(expr)
    except RecursionError:
        raise RulesError("dice expression too deeply nested") from None
    except Exception as err:  # d20 raises several types; the player needs one line
        msg = str(err).splitlines()[0][:60] if str(err) else type(err).__name__
        raise RulesError(f"bad dice {expr!r}: {msg}") from None


def _flatten(node: object, sign: int, out: list[Term]) -> bool:
    from d20 import diceast as a

    if isinstance(node, a.Expression | a.Parenthetical | a.AnnotatedNumber):
        return _flatten(node.roll if isinstance(node, a.Expression) else node.value, sign, out)
    if isinstance(node, a.Literal):
        if not isinstance(node.value, int):
            return False
        out.append((sign, 0, node.value, 0))
        return True
    if isinstance(node, a.UnOp):
        return _flatten(node.value, -sign if node.op == "-" else sign, out)
    if isinstance(node, a.BinOp) and node.op in "+-":
        return _flatten(node.left, sign, out) and _flatten(
            node.right, -sign if node.op == "-" else sign, out
        )
    if isinstance(node, a.OperatedDice) and isinstance(node.value, a.Dice):
        if len(node.operations) != 1 or node.operations[0].op != "k":
            return False
        sels = node.operations[0].sels
        if len(sels) != 1 or sels[0].cat not in ("h", "l"):
            return False
        n = sels[0].num
        d = node.value
        if not isinstance(d.size, int):
            return False
        out.append((sign, d.num, d.size, n if sels[0].cat == "h" else -n))
        return True
    if isinstance(node, a.Dice):
        if not isinstance(node.size, int):
            return False
        out.append((sign, node.num, node.size, 0))
        return True
    return False


def _count_dice(node: object) -> int:
    from d20 import diceast as a

    if isinstance(node, a.Dice):
        if isinstance(node.size, int) and node.size > MAX_SIDES:
            raise RulesError(f"at most {MAX_SIDES} sides per die")
        return node.num
    return sum(_count_dice(c) for c in node.children)


@lru_cache(maxsize=4096)
def compile_expr(expr: str) -> Compiled:
    """Parse and check an expression once; later rolls reuse the result."""
    expr = expr.strip()
    if not expr:
        raise RulesError("empty dice expression")
    if len(expr) > MAX_EXPR:
        raise RulesError(f"dice expression longer than {MAX_EXPR} characters")
    ast = _parse(expr)
    try:
        ndice = _count_dice(ast)
    except RecursionError:
        raise RulesError("dice expression too deeply nested") from None
    if ndice > MAX_DICE:
        raise RulesError(f"at most {MAX_DICE} dice per roll")
    terms: list[Term] = []
    try:
        ok = _flatten(ast, 1, terms)
    except RecursionError:
        raise RulesError("dice expression too deeply nested") from None
    for _s, n, sides, _k in terms:
        if n and sides < 1:
            raise RulesError("a die needs at least one side")
    return Compiled(tuple(terms) if ok else None, None if ok else ast, ndice)


def _eval_ast(node: object, rng: random.Random, crit: bool, dice: list[int]) -> float:
    """The general evaluator for expressions outside the fast form (*, /, mi, ma, rr...)."""
    from d20 import diceast as a

    if isinstance(node, a.Expression):
        return _eval_ast(node.roll, rng, crit, dice)
    if isinstance(node, a.AnnotatedNumber | a.Parenthetical):
        return _eval_ast(node.value, rng, crit, dice)
    if isinstance(node, a.Literal):
        return node.value
    if isinstance(node, a.UnOp):
        v = _eval_ast(node.value, rng, crit, dice)
        return -v if node.op == "-" else v
    if isinstance(node, a.BinOp):
        left = _eval_ast(node.left, rng, crit, dice)
        right = _eval_ast(node.right, rng, crit, dice)
        op = node.op
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op in ("/", "//", "%"):
            if right == 0:
                raise RulesError("division by zero in dice")
            return left // right if op != "%" else left % right
        raise RulesError(f"comparison {op!r} not allowed in dice")
    if isinstance(node, a.NumberSet):
        return sum(_eval_ast(v, rng, crit, dice) for v in node.values)
    if isinstance(node, a.OperatedSet) and not isinstance(node, a.OperatedDice):
        return _eval_ast(node.value, rng, crit, dice)
    if isinstance(node, a.OperatedDice | a.Dice):
        base = node.value if isinstance(node, a.OperatedDice) else node
        if not isinstance(base.size, int):
            raise RulesError("percentile dice are not supported")
        n = base.num * (2 if crit else 1)
        rolls = [rng.randint(1, base.size) for _ in range(n)]
        for op in node.operations if isinstance(node, a.OperatedDice) else ():
            rolls = _dice_op(op, rolls, base.size, rng)
        dice.extend(rolls)
        return sum(rolls)
    raise RulesError("unsupported dice expression")


def _dice_op(op: object, rolls: list[int], size: int, rng: random.Random) -> list[int]:
    sel = op.sels[0] if op.sels else None
    if sel is None:
        raise RulesError("dice operator needs a selector")
    num = sel.num
    if op.op in ("mi", "ma"):
        return [max(r, num) if op.op == "mi" else min(r, num) for r in rolls]
    if op.op in ("k", "p"):
        order = sorted(range(len(rolls)), key=lambda i: rolls[i])
        if sel.cat == "h":
            chosen = set(order[-num:]) if num else set()
        elif sel.cat == "l":
            chosen = set(order[:num])
        else:
            chosen = {i for i, r in enumerate(rolls) if _matches(sel, r)}
        keep = chosen if op.op == "k" else set(range(len(rolls))) - chosen
        return [r for i, r in enumerate(rolls) if i in keep]
    if op.op in ("rr", "ro"):
        out = []
        for r in rolls:
            tries = 0
            while _matches(sel, r) and tries < (1 if op.op == "ro" else 10):
                r = rng.randint(1, size)
                tries += 1
            out.append(r)
        return out
    raise RulesError(f"dice operator {op.op!r} not supported")


def _matches(sel: object, r: int) -> bool:
    if sel.cat == "<":
        return r < sel.num
    if sel.cat == ">":
        return r > sel.num
    return r == sel.num


def roll(expr: str, rng: random.Random, *, crit: bool = False) -> RollResult:
    """Roll `expr` with `rng`; a critical hit doubles every die. Any failure is a RulesError."""
    c = compile_expr(expr)
    dice: list[int] = []
    if c.terms is not None:
        total = 0
        rint = rng.randint
        for sign, n, sides, keep in c.terms:
            if n == 0:
                total += sign * sides
                continue
            n = n * 2 if crit else n
            rolls = [rint(1, sides) for _ in range(n)]
            if keep:
                rolls = sorted(rolls)[-keep:] if keep > 0 else sorted(rolls)[:-keep]
            dice.extend(rolls)
            total += sign * sum(rolls)
    else:
        try:
            total = int(_eval_ast(c.ast, rng, crit, dice))
        except RecursionError:
            raise RulesError("dice expression too deeply nested") from None
    text = f"{expr.strip()}={total}" if not dice else f"{expr.strip()} {dice}={total}"
    return RollResult(total, text, dice)


def total(expr: str, rng: random.Random, *, crit: bool = False) -> int:
    """Just the total: the hot path for damage, skipping the text."""
    c = compile_expr(expr)
    if c.terms is None:
        return roll(expr, rng, crit=crit).total
    t = 0
    rint = rng.randint
    for sign, n, sides, keep in c.terms:
        if n == 0:
            t += sign * sides
        elif keep:
            rolls = sorted(rint(1, sides) for _ in range(n * 2 if crit else n))
            t += sign * sum(rolls[-keep:] if keep > 0 else rolls[:-keep])
        else:
            for _ in range(n * 2 if crit else n):
                t += sign * rint(1, sides)
    return t


@lru_cache(maxsize=4096)
def average(expr: str) -> float:
    """The expected total, for AI scoring and displays."""
    c = compile_expr(expr)
    if c.terms is None:
        return 0.0
    return sum(
        s * (v if n == 0 else (abs(k) if k else n) * (v + 1) / 2) for s, n, v, k in c.terms
    )


@lru_cache(maxsize=1024)
def maximum(expr: str) -> int:
    """The highest total the dice can roll (Supreme Healing)."""
    c = compile_expr(expr)
    if c.terms is None:
        return 0
    return sum(s * (v if n == 0 else (abs(k) if k else n) * v) for s, n, v, k in c.terms)


def d20(rng: random.Random, adv: int = 0) -> tuple[int, tuple[int, ...]]:
    """A d20 with advantage (adv > 0), disadvantage (adv < 0) or neither: (kept, rolls)."""
    a = rng.randint(1, 20)
    if adv == 0:
        return a, (a,)
    b = rng.randint(1, 20)
    return (max(a, b) if adv > 0 else min(a, b)), (a, b)


class LoadedD20(random.Random):
    """Wraps a game RNG so the next d20s show faces the DM chose; every other roll is rng's.

    random() and getrandbits() delegate, so choices and shuffles draw exactly what the
    wrapped RNG would have drawn, and a replay with the same seed stays bit-exact.
    """

    def __init__(self, rng: random.Random, face: int | list[int]) -> None:
        super().__init__(0)
        self._rng = rng
        self.faces = list(face) if isinstance(face, list) else [face]
        self.face = self.faces[0]
        self.count = 0  # faces shown so far

    @property
    def used(self) -> bool:
        return self.count > 0

    @property
    def left(self) -> list[int]:
        return self.faces[self.count:]

    def randint(self, a: int, b: int) -> int:
        if self.count < len(self.faces) and (a, b) == (1, 20):
            self.count += 1
            return self.faces[self.count - 1]
        return self._rng.randint(a, b)

    def random(self) -> float:
        return self._rng.random()

    def getrandbits(self, k: int) -> int:
        return self._rng.getrandbits(k)
