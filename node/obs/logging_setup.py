"""Logging for the node: JSON lines for services (journald, files), readable text in a terminal."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname.lower(),
            "logger": record.name, "msg": record.getMessage(),
        }
        for k, v in vars(record).items():
            if k not in _STD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


# syslog priorities journald reads from a "<N>" line prefix (sd-daemon(3))
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
             logging.DEBUG: 7}


class JournalPrefix(logging.Formatter):
    """Wraps a formatter so each line starts with its syslog priority, "<4>" for a warning.

    journald strips the prefix and files the line at that priority, so `journalctl -p
    warning` shows warnings and worse. Continuation lines (tracebacks) get it too.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        level = max((lv for lv in _PRIORITY if lv <= record.levelno), default=logging.DEBUG)
        prefix = f"<{_PRIORITY[level]}>"
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


def on_journal(stream: Any = None, env: Any = None) -> bool:
    """True when `stream` is the journal: $JOURNAL_STREAM names its device and inode."""
    env = os.environ if env is None else env
    stream = stream or sys.stderr
    dev, _, ino = str(env.get("JOURNAL_STREAM", "")).partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def want_json(stream: Any = None) -> bool:
    stream = stream or sys.stderr
    if os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"):
        return True  # under systemd: journald and log shippers read JSON
    return not (hasattr(stream, "isatty") and stream.isatty())


def setup(level: str | int = "INFO", json_logs: bool | None = None) -> None:
    """Configure the root logger once for a process."""
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter
    if want_json() if json_logs is None else json_logs:
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s",
                                      "%H:%M:%S")
    handler.setFormatter(JournalPrefix(formatter) if on_journal() else formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
