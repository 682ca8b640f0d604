"""Logging that never carries what people wrote.

Our own lines name the kind of event or error, never a message, a token or a person.  Libraries
are another matter: at DEBUG slack_sdk logs each request's JSON body, urllib3 and the LINE SDK
their requests, Bolt the requests it gets.  Those loggers are held at INFO whatever level the
root logger is given, so turning on DEBUG to chase a problem cannot put client text in a log.
A platform names its own libraries' loggers in its connector (``Connector.loggers``).
"""
from __future__ import annotations

import logging

LIBRARIES = ("urllib3", "apscheduler", "waitress")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def quiet_libraries() -> None:
    from bot.adapters import CONNECTORS  # their hooks only: the standard library
    for name in LIBRARIES + tuple(n for c in CONNECTORS for n in c.loggers):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def configure(level: int = logging.INFO) -> None:
    """What ``nimo serve`` and ``nimo worker`` log: one line each, to stderr."""
    logging.basicConfig(level=level, format=FORMAT)
    quiet_libraries()
