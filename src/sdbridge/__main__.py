"""`python -m sdbridge`: the same as the `sdbridge` command."""

from sdbridge.cli import main

main()
