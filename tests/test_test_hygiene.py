"""The tests themselves: no test sleeps and then asserts that something did not happen, and every
test checks something.

What the sleep scan flags, exactly: in a function anywhere under tests/, a statement
``time.sleep(...)`` or ``sleep(...)`` followed by an ``assert`` that checks an absence, among the
statements that run after it before any call of a function whose name starts with ``wait``.
"After it" follows the order statements run in: into the bodies of ``with``, ``try`` (its
``else`` and ``finally`` too) and ``if`` (both branches, one after the other) and on past their
end; the bodies of loops, ``except`` handlers and nested functions are scanned on their own (a
polling loop's sleep is not followed out of its loop).  An absence check is an assert of which
one ``and`` part is ``not X``, ``X not in Y``, ``X is None`` or ``is False``, an ``==`` with an
empty literal (``[]``, ``()``, ``{}``, ``""``, ``set()``), ``0``, ``None``, ``False`` or a list
or tuple literal (the whole list is that: nothing more came), or a ``len(...)``,
``.count(...)`` or ``sum(...)`` compared with ``==``, ``<`` or ``<=``.
Such a test passes on a machine too slow to have done the unwanted thing yet; wait instead for
a positive sign that the work is over (the workers idle, the row answered, a later event
answered) and then assert.  A sleep that lets real time pass before a positive check (a lease
running out) is not flagged.

What the check scan flags: a ``test_*`` function with no ``assert``, no ``pytest.raises`` or
``pytest.fail``, no call of a ``wait…`` function, and no call of a function defined in tests/
that has one of these.
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _call_name(c: ast.Call) -> str:
    return c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")


# -- the sleep scan -------------------------------------------------------------------------------
def _is_sleep(stmt: ast.stmt) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    f = stmt.value.func
    return (isinstance(f, ast.Attribute) and f.attr == "sleep" and isinstance(f.value, ast.Name)
            and f.value.id == "time") or (isinstance(f, ast.Name) and f.id == "sleep")


def _is_empty(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in (None, False, 0, "")
    if isinstance(node, (ast.List, ast.Tuple)):
        return True  # empty, or the whole list: nothing else
    if isinstance(node, ast.Set):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("set", "dict", "list") \
        and not node.args


def _is_counted(node: ast.expr) -> bool:
    """``len(...)``, ``sum(...)`` or ``x.count(...)``."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id in ("len", "sum")) or (isinstance(f, ast.Attribute) and f.attr == "count")


def _checks_absence(test: ast.expr) -> bool:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_checks_absence(v) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, left, right = test.ops[0], test.left, test.comparators[0]
        if isinstance(op, ast.NotIn):
            return True
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value in (None, False):
            return True
        if isinstance(op, ast.Eq) and (_is_empty(left) or _is_empty(right)):
            return True
        if isinstance(op, (ast.Eq, ast.Lt, ast.LtE)) and _is_counted(left):
            return True
    return False


def _waits(stmt: ast.stmt) -> bool:
    return any(isinstance(c, ast.Call) and _call_name(c).startswith("wait") for c in ast.walk(stmt))


def _runs(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """The simple statements of ``body`` in the order they run (the first list), and those of the
    blocks scanned on their own (loops, handlers, nested functions)."""
    run: list[ast.stmt] = []
    others: list[list[ast.stmt]] = []

    def inline(stmts: list[ast.stmt]) -> None:
        for s in stmts:
            if isinstance(s, (ast.With, ast.AsyncWith)):
                inline(s.body)
            elif isinstance(s, ast.Try):
                inline(s.body)
                inline(s.orelse)
                for h in s.handlers:
                    others.extend(_runs(h.body))
                inline(s.finalbody)
            elif isinstance(s, ast.If):
                run.append(ast.Expr(s.test, lineno=s.lineno))
                inline(s.body)
                inline(s.orelse)
            elif isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
                others.extend(_runs(s.body))
                others.extend(_runs(s.orelse))
                run.append(s)
            elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                others.extend(_runs(s.body))
            else:
                run.append(s)

    inline(body)
    return [run] + others


def sleep_then_absence(source: str, filename: str = "<test>") -> list[str]:
    """Where ``source`` sleeps and then asserts an absence: 'file:line' of each such sleep."""
    found = set()
    for fn in ast.walk(ast.parse(source, filename)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for run in _runs(fn.body):
            for i, stmt in enumerate(run):
                if not _is_sleep(stmt):
                    continue
                for later in run[i + 1:]:
                    if _waits(later) or _is_sleep(later):
                        break
                    if isinstance(later, ast.Assert) and _checks_absence(later.test):
                        found.add((filename, stmt.lineno))
                        break
    return [f"{f}:{n}" for f, n in sorted(found)]


def _test_sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if ".venv" not in p.parts)


def test_no_test_sleeps_and_then_asserts_that_nothing_happened():
    found = [w for p in _test_sources() for w in sleep_then_absence(p.read_text(encoding="utf-8"),
                                                                    str(p.relative_to(TESTS.parent)))]
    assert found == [], "sleep then assert an absence (wait for the workers to be idle instead): " + ", ".join(found)


FLAGGED = '''
import time
from time import sleep

def a(stack):
    stack.post()
    time.sleep(0.3)
    assert stack.sent == []

def b(stack):
    with stack.running():
        sleep(1)
    assert len(stack.sent) == 1 and stack.sent[0] == "x"

def c(svc, kind):
    try:
        svc.start()
        time.sleep(1.0)
    finally:
        svc.stop()
    if kind == "line":
        texts = [p.text for p in svc.sent]
        assert "again" not in texts

def d(svc):
    time.sleep(0.5)
    first = svc.read()
    assert first.ok
    assert svc.count("x") == 0

def e(svc):
    time.sleep(0.5)
    assert svc.ok and svc.last is None

def f(stack):
    time.sleep(1.2)
    assert [d["kind"] for d in stack.sent] == ["push"]
'''

NOT_FLAGGED = '''
import time

def waits_for_idle(stack):
    stack.post()
    stack.wait_idle()
    assert stack.sent == []

def lets_a_lease_run_out(lease):
    time.sleep(1.5)
    assert lease.expired and lease.holder == "other"

def polls(box):
    while not box:
        time.sleep(0.05)
    assert box == [1]

def waits_after_the_sleep(s, proc):
    time.sleep(0.3)
    s.sendall(b"rest")
    assert s.recv(1000).startswith(b"HTTP/1.1 200")
    assert proc.wait(15) == 0
    assert s.extra == []
'''


def test_the_sleep_scan_finds_each_form_it_documents_and_nothing_else():
    assert sleep_then_absence(FLAGGED) == ["<test>:7", "<test>:12", "<test>:18", "<test>:26", "<test>:32",
                                           "<test>:36"]
    assert sleep_then_absence(NOT_FLAGGED) == []


# -- every test checks something ----------------------------------------------------------------
_CHECK_CALLS = {"raises", "fail"}


def _checks_directly(fn: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) or (isinstance(n, ast.Call) and (
        _call_name(n) in _CHECK_CALLS or _call_name(n).startswith("wait"))) for n in ast.walk(fn))


def unchecked_tests(sources: dict[str, str]) -> list[str]:
    """``test_*`` functions of ``sources`` (name → text) that check nothing, even through a helper
    defined in one of them (a helper is known by its name)."""
    trees = {name: ast.parse(text, name) for name, text in sources.items()}
    helpers = {n.name for t in trees.values() for n in ast.walk(t)
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _checks_directly(n)}
    found = []
    for name, tree in trees.items():
        for fn in ast.walk(tree):
            if not (isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name.startswith("test_")):
                continue
            if not _checks_directly(fn) and not any(isinstance(n, ast.Call) and _call_name(n) in helpers
                                                    for n in ast.walk(fn)):
                found.append(f"{name}::{fn.name}")
    return found


def test_every_test_checks_something():
    sources = {str(p.relative_to(TESTS.parent)): p.read_text(encoding="utf-8") for p in _test_sources()}
    assert unchecked_tests(sources) == []


def test_the_check_scan_sees_a_test_that_checks_nothing():
    source = '''
def helper(x):
    assert x

def test_through_a_helper():
    helper(1)

def test_waits():
    box.wait_for(lambda b: b)

def test_nothing():
    run()
'''
    assert unchecked_tests({"t.py": source}) == ["t.py::test_nothing"]
