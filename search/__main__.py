"""``python -m search`` runs the newsearch command."""
from .cli import main

main()
