"""Write systemd/node.toml.example from node.config's fields (print, --write or --check)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as `python tools/node_toml_example.py` from a checkout
    sys.path.insert(0, str(ROOT))

from node.config import service_example  # noqa: E402

EXAMPLE = ROOT / "systemd" / "node.toml.example"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {EXAMPLE.name}")
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = service_example()
    if args.write:
        EXAMPLE.write_text(text)
    elif args.check:
        if not EXAMPLE.is_file() or EXAMPLE.read_text() != text:
            print(f"{EXAMPLE} is stale; run: python tools/node_toml_example.py --write",
                  file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
