"""``python -m bot`` is the same as the ``nimo`` command."""
from .cli import main

main()
