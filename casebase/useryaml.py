"""Reading YAML that a person hands in (a local case uploaded in the console or given to ``nimo cases
import``), so that no file can cost more to read and store than its own size.

A safe loader still follows anchors and aliases: a list of aliases to one long string is a few
kilobytes in the file and gigabytes once expanded (and once dumped again for storage).  A case
record never needs them, so the composer here refuses the first anchor or alias it meets, and it
counts nodes and depth as it goes: the parser is pulled one event at a time, so a refusal comes
before anything is built, whatever the rest of the file holds.  The size of the file is checked
before it is parsed at all, and :func:`check_record_size` bounds a record again before it is dumped.

Messages are Japanese because the person who uploaded the file reads them (``casebase`` cannot
import ``bot``, so they live here, beside the validator's own).
"""
from __future__ import annotations

import os

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent

MAX_BYTES = 1024 * 1024  # a case file is a few kilobytes; 1 MB leaves room for a long one
MAX_NODES = 5_000        # keys, values and list items together; the longest built-in case has ~200
MAX_DEPTH = 20           # a case is at most four levels deep (stages → text → item)

NO_ANCHORS = "YAML のアンカー（&）とエイリアス（*）は使えません。同じ文は繰り返し書いてください"


def too_large(n_bytes: int) -> str:
    return f"ファイルが大きすぎます（{n_bytes / 1024 / 1024:.1f}MB）。1MB までにしてください"


TOO_MANY = f"項目が多すぎます（{MAX_NODES:,}個まで）。1つのファイルには1つの事例だけを書いてください"
TOO_DEEP = f"入れ子が深すぎます（{MAX_DEPTH}段まで）"


class Refused(ValueError):
    """A file refused before it was read into a record; ``str(e)`` is Japanese, ``line`` 1-based or None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"{message}（{line}行目）")
        self.line = line


class _GuardedComposer(Composer):
    """PyYAML's composer, refusing anchors and aliases and counting what it builds."""

    def __init__(self):
        super().__init__()
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise Refused(NO_ANCHORS, line)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise Refused(TOO_MANY, line)
        if not isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise Refused(TOO_DEEP, line)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _loader_class():
    # libyaml's parser (C) when present, feeding the composer above (Python), which comes first in
    # the order so its methods are the ones used; PyYAML's own parser otherwise.
    try:
        from yaml._yaml import CParser
    except ImportError:
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class _Pure(Reader, Scanner, Parser, _GuardedComposer, yaml.constructor.SafeConstructor,
                    yaml.resolver.Resolver):
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)
                _GuardedComposer.__init__(self)
                yaml.constructor.SafeConstructor.__init__(self)
                yaml.resolver.Resolver.__init__(self)
        return _Pure

    class _Fast(_GuardedComposer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            _GuardedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
    return _Fast


GuardedLoader = _loader_class()


def load(raw: bytes):
    """The record in ``raw`` (UTF-8, a BOM allowed).  :class:`Refused` for a file over
    ``MAX_BYTES`` (checked first), an anchor or alias, too many nodes or too deep a nesting;
    ``UnicodeDecodeError`` and ``yaml.YAMLError`` as the plain loader raises them."""
    if len(raw) > MAX_BYTES:
        raise Refused(too_large(len(raw)))
    text = raw.decode("utf-8-sig")
    loader = GuardedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read(path) -> bytes:
    """A file's bytes, never more than ``MAX_BYTES`` + 1 of them read (:class:`Refused` when larger)."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise Refused(too_large(os.path.getsize(path)))
    return raw


def check_record_size(data) -> None:
    """:class:`Refused` when a record built some other way (a form, a proposal) holds more nodes or
    characters than a file may: a bound on what is dumped, whatever the record's origin.  Stops at
    the first limit passed, so a record that shares one list many times costs no more than the limit."""
    nodes, chars = 0, 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise Refused(TOO_MANY)
        if depth > MAX_DEPTH:
            raise Refused(TOO_DEEP)
        if isinstance(value, str):
            chars += len(value)
            if chars > MAX_BYTES:
                raise Refused(too_large(chars))
        elif isinstance(value, dict):
            for k, v in value.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)
