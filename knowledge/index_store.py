"""The case index saved next to the database, so a start loads it instead of tokenising every case.

Building the index of 10,000 cases takes a minute or more (Sudachi tokenising every case); loading
what a build made takes well under a second of CPU.
A saved index is a folder ``<database>.index/<key>/`` where the key is a hash of everything the
index is made from: the built-in case files, the local cases (their YAML as stored), the synonym
file, the code that tokenises and indexes, and the versions of SudachiPy, its dictionary and
numpy.  A start whose key finds a folder loads it; any change (a local case imported or withdrawn,
an edited synonym, an upgrade) gives a new key, so the next start builds, saves and removes the
folders of other keys.  Nothing has to remember to invalidate it.

The files are JSON (the vocabularies, the synonym groups, the columns), JSON lines (one case a
line, read when the case is shown) and ``.npy`` (the BM25 weights of every view at the level of
whole cases and of passages, loaded memory-mapped, never with pickle): a folder beside a database can be written by whoever can write
the database, and must not be a way to run code.
A folder is written under a temporary name and renamed into place in one step, so processes
starting together (web, worker, CLI) never read a half-written one; a folder that does not load
(damaged, or removed by another process meanwhile) is rebuilt, never trusted.  An in-memory
database, or a folder that cannot be written, gets an index built in memory as before.
"""
from __future__ import annotations

import hashlib
import json
import logging
import operator
import os
import re
import shutil
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from storage.connections import file_of

import casebase.cases
from casebase.cases import Case, builtin_sources, from_sources, local_sources

log = logging.getLogger(__name__)

FORMAT = 2  # of the files below; raise it when they change
# The code whose change changes what an index holds: a new release of it makes a new key.
_CODE = tuple(Path(__file__).parent / n for n in ("search.py", "tokens.py", "index_store.py",
                                                  "passages.py", "bm25.py", "scope.py")) + (
    Path(casebase.cases.__file__),)  # how records are read from YAML and the database
_PACKAGES = ("SudachiPy", "SudachiDict-core", "numpy")
_ARRAY_NAME = re.compile(r"^[a-z]+(\.[a-z]+)*$")
_STALE_TMP_S = 3600  # a temporary folder this old belongs to a process that died while saving


def folder(db) -> Path | None:
    """Where the saved indexes of ``db`` live, or None for a database without a file."""
    try:
        path = file_of(db)
    except Exception:  # not a SQLite database we can ask: no saved index, as before
        return None
    return Path(path + ".index") if path else None


def _synonyms_path() -> Path:
    from .search import SYNONYMS_PATH  # read at call time so a test can point it elsewhere
    return SYNONYMS_PATH


class _Sources:
    """What an index is made from.  The key of a start that loads is hashed from the local cases
    streamed out of the database one at a time: holding the YAML of 10,000 cases to hash it costs
    some 70 MB of heap that the allocator keeps for the rest of the process.  A start that builds
    reads them once (:meth:`read`) and hashes exactly what it then indexes, even when a case is
    imported while it starts."""

    def __init__(self, db):
        self.db = db
        self.builtin = builtin_sources()
        self.local: list[tuple[str, bytes]] | None = None  # read only to build
        self.synonyms = _synonyms_path().read_bytes()

    def read(self) -> None:
        self.local = local_sources(self.db)

    def key(self) -> str:
        h = hashlib.sha256()

        def put(label: str, data: bytes) -> None:
            h.update(f"{label}\0{len(data)}\0".encode())
            h.update(data)

        put("format", str(FORMAT).encode())
        for name in _PACKAGES:
            try:
                put(name, metadata.version(name).encode())
            except metadata.PackageNotFoundError:
                put(name, b"-")
        for p in _CODE:
            put("code:" + p.name, p.read_bytes())
        put("synonyms", self.synonyms)
        for name, data in self.builtin:
            put("builtin:" + name, data)
        for case_id, data in (self.local if self.local is not None else _stream_local(self.db)):
            put("local:" + case_id, data)
        return h.hexdigest()

    def build(self):
        from .search import CaseIndex, Synonyms
        if self.local is None:
            self.read()
        return CaseIndex(from_sources(self.builtin, self.local), Synonyms.parse(self.synonyms.decode("utf-8")))


def _stream_local(db):
    """The rows of :func:`casebase.cases.local_sources`, one at a time (same query, same order)."""
    if db is None or "local_cases" not in db.table_names():
        return
    for case_id, data in db.execute("SELECT id, CAST(yaml AS BLOB) FROM local_cases ORDER BY id"):
        yield case_id, data


def key(db) -> str:
    """A hash of everything the index of ``db`` is made from, read raw (no YAML parsed)."""
    return _Sources(db).key()


def load_index(db):
    """The case index of ``db``: loaded when saved under the current key, else built (and saved)."""
    sources = _Sources(db)
    where = folder(db)
    if where is None:
        return sources.build()
    k = sources.key()
    index = _load(where / k, k, sources.synonyms)
    if index is None:
        sources.read()
        k = sources.key()  # of exactly the cases now built
        index = sources.build()
        save(index, where, k)
    prune(db, keep=k)
    return index


def prune(db, *, keep: str | None = None) -> None:
    """Remove the saved indexes of ``db`` that no longer match its cases.

    A process that started before a change may still save its index under the old key; it is
    removed only while the database's current key differs, so two processes never remove each
    other's current index in turn.
    """
    where = folder(db)
    try:
        others = [p for p in where.iterdir() if p.name != keep] if where is not None else []
    except OSError:
        return
    if not others:
        return
    current = key(db)
    if keep is not None and keep != current:
        return  # the cases changed while this process loaded: leave the folder to the newer key
    now = time.time()
    for p in others:
        if p.name == current:
            continue
        if p.name.startswith(".tmp-"):
            try:
                if now - p.stat().st_mtime < _STALE_TMP_S:
                    continue  # another process is saving into it right now
            except OSError:
                continue
        shutil.rmtree(p, ignore_errors=True)


def save(index, where: Path, k: str) -> bool:
    """Write ``index`` as ``where/k`` in one rename; False (and an index in memory only) when the
    folder cannot be written or the cases cannot be saved as JSON exactly."""
    import numpy as np
    lines = []  # one JSON line a case, so that a loaded index reads a case only to show it
    try:
        for c in index.cases:
            record = {"id": c.id, "local": c.local, "data": c.data}
            line = json.dumps(record, ensure_ascii=False, allow_nan=False)
            if "\n" in line or json.loads(line) != record:  # a date or a tuple would come back otherwise
                raise ValueError("not exact")
            lines.append(line.encode("utf-8") + b"\n")
    except (TypeError, ValueError):
        log.warning("case index not saved: a case holds values JSON cannot keep; built in memory")
        return False
    cases_bytes = b"".join(lines)
    offsets = np.cumsum([0] + [len(line) for line in lines], dtype=np.int64)
    del lines
    parts = index.saved_parts()
    tmp = where / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        tmp.mkdir(parents=True)
        arrays = {}
        for name, a in parts["arrays"].items():
            _write(tmp / f"{name}.npy", lambda f, a=a: np.save(f, np.ascontiguousarray(a), allow_pickle=False))
            arrays[name] = int(len(a))
        meta = {"format": FORMAT, "key": k, "cases": len(index.cases), "arrays": arrays,
                "cases_sha256": hashlib.sha256(cases_bytes).hexdigest(), "columns": parts["columns"],
                "groups": parts["groups"]}
        _write(tmp / "cases.jsonl", lambda f: f.write(cases_bytes))
        _write(tmp / "offsets.npy", lambda f: np.save(f, offsets, allow_pickle=False))
        _write_json(tmp / "vocab.json", parts["vocab"])
        _write_json(tmp / "meta.json", meta)  # last: a folder without it is not an index
        try:
            os.rename(tmp, where / k)
        except OSError:
            if not (where / k).is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process saved the same key first
        return True
    except OSError as e:
        log.warning("case index not saved (%s): built in memory", type(e).__name__)
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def _write(path: Path, fill) -> None:
    with open(path, "wb") as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, value) -> None:
    _write(path, lambda f: f.write(json.dumps(value, ensure_ascii=False).encode("utf-8")))


def _load(path: Path, k: str, synonyms: bytes):
    """The index saved in ``path``, or None when it is absent, of another key, or damaged."""
    from .search import CaseIndex, Synonyms
    import numpy as np
    try:
        meta_text = (path / "meta.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None  # not saved yet (or removed by a process that saved a newer one)
    except OSError as e:
        log.warning("saved case index unreadable (%s): building it again", type(e).__name__)
        return None
    try:
        meta = json.loads(meta_text)
        if meta.get("format") != FORMAT or meta.get("key") != k:
            raise ValueError("the folder holds another index")
        cases = _SavedCases(path, meta["cases_sha256"], meta["columns"]["id"])
        vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        arrays, offsets = {}, {}
        for name, length in meta["arrays"].items():
            if not isinstance(name, str) or not _ARRAY_NAME.match(name):
                raise ValueError("array name")
            # Memory-mapped: the pages of a term are read when a question uses it, and shared
            # between the processes that load the same index.  Viewed as plain arrays, because
            # slicing a np.memmap costs a few microseconds more, and searching slices a lot.
            m = np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            if m.ndim != 1 or len(m) != length or not m.dtype.isnative:
                raise ValueError("array length")
            arrays[name] = m.view(np.ndarray)
            offsets[name] = m.offset
        _check(arrays, vocab, len(cases), _Scan(path, arrays, offsets))
        parts = {"arrays": arrays, "vocab": vocab, "columns": meta["columns"], "groups": meta["groups"]}
        if not len(cases) == meta["cases"] == len(meta["columns"]["id"]) or \
                {len(v) for v in meta["columns"].values()} != {len(cases)}:
            raise ValueError("case count")
        index = CaseIndex.from_parts(cases, Synonyms.parse(synonyms.decode("utf-8")), parts)
        index.loaded_from = path  # how a test or a benchmark tells a loaded index from a built one
        return index
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        log.warning("saved case index unreadable (%s): building it again", type(e).__name__)
        shutil.rmtree(path, ignore_errors=True)  # or the new one could not take its place
        return None


class _Scan:
    """The entries of a saved array read from its file in blocks, for checks that look at every
    entry.  Reading them through the memory map would make the whole file resident (the kernel
    maps the page cache in large folios) in every process that loads the index, although an answer
    needs a few columns and the passages of a few cases."""

    BLOCK = 1 << 18  # entries

    def __init__(self, path: Path, arrays: dict, offsets: dict):
        self.path, self.arrays, self.offsets = path, arrays, offsets

    def blocks(self, name: str):
        import numpy as np
        a = self.arrays[name]
        buf = np.empty(min(len(a), self.BLOCK), dtype=a.dtype)
        with open(self.path / f"{name}.npy", "rb", buffering=0) as f:
            f.seek(self.offsets[name])
            left = len(a)
            while left:
                part = buf[:min(left, len(buf))]
                if f.readinto(memoryview(part).cast("B")) != part.nbytes:
                    raise ValueError("array file shorter than its header says")
                yield part
                left -= len(part)

    def bounds(self, name: str) -> tuple[int, int]:
        """(min, max) of an integer array."""
        lo, hi = None, None
        for b in self.blocks(name):
            lo = int(b.min()) if lo is None else min(lo, int(b.min()))
            hi = int(b.max()) if hi is None else max(hi, int(b.max()))
        return (0, 0) if lo is None else (lo, hi)

    def ascending(self, name: str) -> bool:
        """Is an integer array non-decreasing?"""
        import numpy as np
        last = None
        for b in self.blocks(name):
            if np.any(b[1:] < b[:-1]) or (last is not None and b[0] < last):
                return False
            last = b[-1]
        return True


def _sparse(a: dict, prefix: str, n_major: int, n_minor: int, scan: _Scan) -> None:
    """One CSC or CSR matrix: ``n_major`` compressed lines whose entries point below ``n_minor``."""
    indptr, indices, data = (a[f"{prefix}.{k}"] for k in ("indptr", "indices", "data"))
    if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise ValueError("index array types")
    nnz = len(data)
    if not (len(indptr) == n_major + 1 and len(indices) == nnz and indptr[0] == 0 and indptr[-1] == nnz):
        raise ValueError("index arrays do not fit together")
    if nnz:
        lo, hi = scan.bounds(f"{prefix}.indices")
        if lo < 0 or hi >= n_minor or not scan.ascending(f"{prefix}.indptr"):
            raise ValueError("index arrays point outside their matrix")


def _check(a: dict, vocab: dict, n_cases: int, scan: _Scan) -> None:
    """Shapes that searching relies on, so a damaged file fails here and not in a search."""
    import numpy as np
    from .search import VIEWS
    pstart = a["pstart"]
    if pstart.dtype.kind not in "iu" or len(pstart) != n_cases + 1 or (len(pstart) and pstart[0] != 0) \
            or np.any(np.diff(pstart) < 0):
        raise ValueError("passage offsets")
    n_passages = int(pstart[-1]) if len(pstart) else 0
    pclass = a["pclass"]
    if pclass.dtype.kind not in "iu" or len(pclass) != n_passages or (n_passages and scan.bounds("pclass")[1] > 2):
        raise ValueError("passage classes")
    for v in VIEWS:
        terms = vocab[v]
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise ValueError("vocabulary")
        _sparse(a, f"{v}.case", len(terms), n_cases, scan)        # by term: the cases it occurs in
        _sparse(a, f"{v}.passage", n_passages, len(terms), scan)  # by passage: the terms it has
        if len(a[f"{v}.idf"]) != len(terms) or a[f"{v}.idf"].dtype.kind != "f":
            raise ValueError("idf")
    _sparse(a, "about", len(vocab["terms"]), n_cases, scan)


class _SavedCases(Sequence):
    """The cases of a saved index, each read from ``cases.jsonl`` when it is asked for.

    Reading 10,000 records at a start costs more than half a second and a hundred megabytes, and
    an answer shows three.  The file is checked against its hash once, when the index loads (read
    in blocks, which leaves nothing resident), so a damaged one is rebuilt rather than found out
    while answering.  A record is read with ``pread``, not through a memory map: the kernel maps
    a file's page cache in large folios (2 MB on this machine's ext4), so a card read through a
    map made 2 MB resident, and a few hundred answers the whole file.  The last records read are
    kept (the hits of the last questions, a card and its next page), not every one ever shown.
    """

    _KEEP = 1024  # a search lists up to 30 hits, each a record: enough for the questions of a busy hour

    def __init__(self, path: Path, sha256: str, ids: list[str]):
        import numpy as np
        h = hashlib.sha256()
        with open(path / "cases.jsonl", "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
            if h.hexdigest() != sha256:
                raise ValueError("cases file does not match its hash")
            size = f.seek(0, os.SEEK_END)
        offsets = np.load(path / "offsets.npy", allow_pickle=False)
        if (offsets.ndim != 1 or len(offsets) != len(ids) + 1 or offsets.dtype.kind not in "iu"
                or (len(ids) and (offsets[0] != 0 or offsets[-1] != size or np.any(np.diff(offsets) <= 0)))):
            raise ValueError("case offsets do not fit the cases file")
        self._offsets = offsets.tolist()
        self._ids = ids
        self._read: OrderedDict[int, Case] = OrderedDict()
        self._lock = threading.Lock()
        # Open for the life of the index: a newer index may remove the folder meanwhile, and an
        # open file stays readable after that, as a memory map did.
        self._fd = os.open(path / "cases.jsonl", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = operator.index(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        with self._lock:
            case = self._read.get(i)
            if case is not None:
                self._read.move_to_end(i)
                return case
        start, end = self._offsets[i], self._offsets[i + 1]
        r = json.loads(os.pread(self._fd, end - start, start))
        case = Case(r["id"], r["data"], local=bool(r["local"]))
        with self._lock:
            self._read[i] = case
            while len(self._read) > self._KEEP:
                self._read.popitem(last=False)
        return case
