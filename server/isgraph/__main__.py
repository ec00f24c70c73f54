"""`python -m isgraph` runs the CLI."""

from isgraph.entry import main

if __name__ == "__main__":
    main()
