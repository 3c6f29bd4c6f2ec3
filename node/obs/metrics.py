"""Counters and gauges for /metrics (Prometheus text format) and `dungeon status`."""

from __future__ import annotations

import threading
from collections.abc import Mapping


def _key(name: str, labels: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


class Metrics:
    """A small thread-safe registry; one per process, passed to whoever counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple, float] = {}
        self._gauges: dict[tuple, float] = {}
        self._help: dict[str, str] = {}

    def describe(self, name: str, text: str) -> None:
        self._help[name] = text

    def inc(self, name: str, n: float = 1, **labels: str) -> None:
        k = _key(name, labels)
        with self._lock:
            self._counters[k] = self._counters.get(k, 0) + n

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._gauges[_key(name, labels)] = value

    def get(self, name: str, **labels: str) -> float:
        k = _key(name, labels)
        with self._lock:
            return self._counters.get(k, self._gauges.get(k, 0))

    def snapshot(self) -> dict[str, float]:
        """Flat name{labels} -> value, for JSON status output."""
        with self._lock:
            items = list(self._counters.items()) + list(self._gauges.items())
        return {_fmt(name, labels): v for (name, labels), v in items}

    def render_prometheus(self) -> str:
        with self._lock:
            series = [("counter", k, v) for k, v in self._counters.items()]
            series += [("gauge", k, v) for k, v in self._gauges.items()]
        lines: list[str] = []
        seen: set[str] = set()
        for kind, (name, labels), value in sorted(series, key=lambda s: s[1]):
            if name not in seen:
                seen.add(name)
                if name in self._help:
                    lines.append(f"# HELP {name} {self._help[name]}")
                lines.append(f"# TYPE {name} {kind}")
            lines.append(f"{_fmt(name, labels)} {value:g}")
        return "\n".join(lines) + "\n"


def _fmt(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return f"{name}{{{inner}}}"


def _escape(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
