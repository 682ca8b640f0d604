"""``python -m bot`` is the same as the ``nimo`` command."""
from bot.cli import main

main()
