"""「ヘルプ」: what Nimo can do, with examples to copy."""
from __future__ import annotations

from .. import messages
from ..core import Choice, Incoming, Reply, Text

EXAMPLE_CHOICES = tuple(Choice(e, e) for e in messages.EXAMPLES[:4])


def help_(app, msg: Incoming) -> list[Reply]:
    return [Text(messages.HELP, EXAMPLE_CHOICES)]
