"""``python -m search`` runs the newsearch command."""
from search.interfaces.cli import main

# The guard matters: worker processes started with "spawn" import this module too.
if __name__ == "__main__":
    main()
