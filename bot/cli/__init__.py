"""The `asap-coach` command line: one module per subcommand, each with `add_parser`."""

from __future__ import annotations

import argparse
import sys

from bot.cli import (
    calibrate,
    critique,
    disputes,
    eval,
    migrate,
    practice,
    purge,
    rotate_key,
    run,
    sandbox,
    worker,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asap-coach",
        description="Coach support teams to handle upset customers with the ASAP method.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        run,
        worker,
        migrate,
        rotate_key,
        purge,
        critique,
        eval,
        calibrate,
        disputes,
        practice,
        sandbox,
    ):
        module.add_parser(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
