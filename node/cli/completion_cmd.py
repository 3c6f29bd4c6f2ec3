"""`dungeon completion bash|zsh|tcsh`: a shell completion script generated from the parser."""

from __future__ import annotations

import argparse

HELP = "print a shell completion script (bash, zsh or tcsh)"

SHELLS = ("bash", "zsh", "tcsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS,
                        help="the shell; e.g. dungeon completion bash > "
                             "~/.local/share/bash-completion/completions/dungeon")


def run(args: argparse.Namespace) -> int:
    import shtab

    from node.cli import build_parser

    # shtab walks every command's options, so the script is as current as the parser.
    print(shtab.complete(build_parser(), shell=args.shell))
    return 0
