"""Stand-ins for the Web APIs Nimo calls, and only for the calls it makes: real HTTP servers on
127.0.0.1 that check what they receive with the SDKs' own models (``line``, ``slack``,
``lineworks``; shared machinery in ``base``), and an in-process pusher (``recorder``) for tests
that only look at what Nimo would send.  Point the real SDK clients at a server's ``url``.
"""
from .line import LineStandIn, line_headers, line_signature
from .lineworks import LineWorksStandIn, lineworks_headers, lineworks_signature
from .recorder import Push, PushRecorder
from .slack import SlackStandIn, slack_headers

__all__ = ["LineStandIn", "LineWorksStandIn", "Push", "PushRecorder", "SlackStandIn", "line_headers",
           "line_signature", "lineworks_headers", "lineworks_signature", "slack_headers"]
