"""`asap-coach run`: placeholder until the foundation lands."""


def add_parser(subcommands):
    parser = subcommands.add_parser("run", help="Run the bot (Socket Mode or HTTP).")
    parser.set_defaults(handler=lambda args: 0)
