"""`asap-coach migrate`: placeholder until the foundation lands."""


def add_parser(subcommands):
    parser = subcommands.add_parser("migrate", help="Apply database migrations.")
    parser.set_defaults(handler=lambda args: 0)
