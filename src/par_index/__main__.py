"""``python -m par_index`` runs the command line."""

from .cli import main

main()
