"""``python -m digitviz``: the same as the ``digitviz`` command (with no command: the app)."""

import sys

try:
    from digitviz.cli import main
except ImportError:  # the CLI is optional for the app itself

    def main(argv=None):
        import argparse

        from digitviz.gui.app import main as app_main

        p = argparse.ArgumentParser(prog="digitviz")
        p.add_argument("--data", metavar="DIR", help="folder with the four MNIST files")
        a = p.parse_args(argv)
        return app_main(data_dir=a.data)


if __name__ == "__main__":
    sys.exit(main())
