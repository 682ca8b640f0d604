"""Kept for ``from tests.fakes_lineworks import ...``: the stand-in lives in tests/fakes/lineworks.py."""
from .fakes.lineworks import LineWorksStandIn, lineworks_headers, lineworks_signature  # noqa: F401
