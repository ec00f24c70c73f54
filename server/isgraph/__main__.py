"""`python -m isgraph` runs the CLI."""

from isgraph.cli import main

if __name__ == "__main__":
    main()
