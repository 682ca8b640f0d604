"""The saved case index: loaded exactly as built, keyed by what it is made of, safe to share between
processes, never trusted when damaged; and an app that makes its index only when first asked."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from storage.connections import open_db
from knowledge import index_store
from casebase.cases import import_local, load_all, withdraw_local
from knowledge.search import CaseIndex

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
SHARED_DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
NOW = "2026-11-24T00:00:00+00:00"
EXTRA_QUESTIONS = [  # conditions, typos, synonyms, a quoted phrase, out of scope, the local cases
    "千葉県の事例", "人口50万人以下の家族支援", "県の取組でアウトリーチ", "沖縄県の事例", "アウトリーツ支援",
    "GH", "PSW", "ケアマネ", "8050問題", "生活サポートシート", "今日の天気は？", "hello",
    "夜間の電話相談", "千葉県X市の夜間対応", "住民向けの講演会", "",
]


def questions() -> list[str]:
    files = [DATA / "dev_questions.jsonl", DATA / "field_questions.jsonl"]
    files += [SHARED_DEV] if SHARED_DEV.exists() else []
    qs = [json.loads(line)["q"] for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(qs + EXTRA_QUESTIONS))


def local_case(tmp_path: Path, case_id: str, title: str, action: str) -> Path:
    path = tmp_path / f"{case_id}.yaml"
    path.write_text(yaml.safe_dump({
        "id": case_id, "part": 1, "section": "ローカル事例", "title": title,
        "area": "千葉県X市", "prefecture": "千葉県", "level": "市町村", "source": "千葉県 独自事例 2026",
        "actions": [action],
    }, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "nimo.db")
    import_local(db, local_case(tmp_path, "chiba-local-1", "夜間の電話相談の試行",
                                "夜間に保健師が電話相談に応じる体制を試行した。"), now=NOW)
    return db


def saved(db) -> list[str]:
    where = index_store.folder(db)
    return sorted(p.name for p in where.iterdir()) if where.is_dir() else []


def outcome(index: CaseIndex, q: str):
    r = index.search(q)
    return [(h.case.id, h.score) for h in r.hits], r.reason, r.terms, r.filters


def test_a_loaded_index_answers_exactly_as_a_freshly_built_one(db):
    built = CaseIndex(load_all(db))
    first = index_store.load_index(db)       # no saved index yet: built, then saved
    loaded = index_store.load_index(db)      # the same key: loaded from the files
    assert getattr(first, "loaded_from", None) is None
    assert loaded.loaded_from == index_store.folder(db) / index_store.key(db)
    answered = 0
    for q in questions():
        want = outcome(built, q)
        assert outcome(first, q) == want, q
        assert outcome(loaded, q) == want, q
        answered += bool(want[0])
    assert answered >= 40  # the comparison is about real answers, not empty ones
    assert [h.case.id for h in loaded.search("夜間の電話相談").hits][:1] == ["chiba-local-1"]
    for c in built.cases:
        assert [(h.case.id, h.score) for h in loaded.similar(c.id)] == \
               [(h.case.id, h.score) for h in built.similar(c.id)], c.id
    assert list(loaded.cases) == built.cases  # ids, data and the local flag, read from the file
    assert loaded.vocab == built.vocab and loaded._vocab == built._vocab
    for q in ("夜間の電話相談", "家族会との連携", "会議が形骸化している"):  # the lines a card shows
        for c in built.cases:
            assert loaded.matches(q, c.id) == built.matches(q, c.id), (q, c.id)


def test_the_saved_index_is_json_and_npy_loaded_memory_mapped(db):
    index_store.load_index(db)
    [k] = saved(db)
    files = sorted((index_store.folder(db) / k).iterdir())
    assert {p.suffix for p in files} == {".json", ".jsonl", ".npy"}
    for p in files:
        if p.suffix == ".npy":
            np.load(p, allow_pickle=False)  # no object arrays: nothing is unpickled
    loaded = index_store.load_index(db)
    for v in ("terms", "senses", "grams"):
        for level in ("case", "passage"):
            arrays = loaded._levels[v][level]
            assert isinstance(arrays["data"].base, np.memmap) and isinstance(arrays["indices"].base, np.memmap)


def test_importing_or_withdrawing_a_local_case_changes_the_key_and_removes_the_old_index(db, tmp_path):
    """The key changes at once; the stale index goes when the next one is saved (a worker), or at
    once by ``prune`` (what ``nimo cases import`` and ``withdraw`` call)."""
    index_store.load_index(db)
    before = index_store.key(db)
    assert saved(db) == [before]
    import_local(db, local_case(tmp_path, "chiba-local-2", "ピア相談員の夜間派遣",
                                "夜間にピア相談員を派遣する仕組みを試行した。"), now=NOW)
    after = index_store.key(db)
    assert after != before
    index_store.prune(db)
    assert saved(db) == []  # the old index is gone at once
    index = index_store.load_index(db)
    assert "chiba-local-2" in index.by_id and saved(db) == [after]
    assert index_store.load_index(db).loaded_from.name == after

    assert withdraw_local(db, "chiba-local-2")
    assert index_store.key(db) == before  # the same cases as before: the same key
    index = index_store.load_index(db)  # saved anew, and the stale one pruned on the way
    assert "chiba-local-2" not in index.by_id and saved(db) == [before]


def test_nimo_cases_import_and_withdraw_leave_no_stale_index(tmp_path):
    """The commands prune at once: the case base itself knows nothing of the search's index."""
    from click.testing import CliRunner
    from bot.cli import main
    path = tmp_path / "n.db"
    env = {"NIMO_DB": str(path)}
    index_store.load_index(open_db(path))
    before = saved(open_db(path))
    assert len(before) == 1
    f = local_case(tmp_path, "chiba-local-3", "ピア相談員の夜間派遣", "夜間にピア相談員を派遣する仕組みを試行した。")
    r = CliRunner().invoke(main, ["cases", "import", str(f)], env=env)
    assert r.exit_code == 0, r.output
    assert saved(open_db(path)) == []
    index_store.load_index(open_db(path))
    r = CliRunner().invoke(main, ["cases", "withdraw", "chiba-local-3"], env=env)
    assert r.exit_code == 0, r.output
    assert saved(open_db(path)) == []


def test_the_synonym_file_and_the_tokenizer_versions_are_part_of_the_key(db, tmp_path, monkeypatch):
    import knowledge.search as search
    base = index_store.key(db)
    edited = tmp_path / "synonyms.yaml"
    edited.write_text(search.SYNONYMS_PATH.read_text(encoding="utf-8") + "\n# 編集\n", encoding="utf-8")
    monkeypatch.setattr(search, "SYNONYMS_PATH", edited)
    with_synonyms = index_store.key(db)
    assert with_synonyms != base
    real_version = index_store.metadata.version
    monkeypatch.setattr(index_store.metadata, "version",
                        lambda name: "99.0" if name == "SudachiDict-core" else real_version(name))
    assert index_store.key(db) not in (base, with_synonyms)


def test_an_in_memory_database_keeps_no_saved_index():
    db = open_db(":memory:")
    assert index_store.folder(db) is None
    index = index_store.load_index(db)
    assert index.search("家族会との連携").hits and getattr(index, "loaded_from", None) is None


def test_no_writable_place_means_an_index_in_memory(db, caplog):
    where = index_store.folder(db)
    where.write_text("not a folder")  # so nothing can be saved there (root ignores permissions)
    first, second = index_store.load_index(db), index_store.load_index(db)  # both built, neither saved
    assert first.search("家族会との連携").hits
    assert outcome(first, "家族会との連携") == outcome(second, "家族会との連携")
    assert getattr(second, "loaded_from", None) is None and where.read_text() == "not a folder"
    assert "not saved" in caplog.text and "家族" not in caplog.text


DAMAGE_QUESTIONS = ("家族会との連携", "夜間の電話相談", "GH")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A good saved index (its key, its folder) and the answers of an index built from scratch."""
    tmp = tmp_path_factory.mktemp("pristine")
    db = open_db(tmp / "nimo.db")
    import_local(db, local_case(tmp, "chiba-local-1", "夜間の電話相談の試行",
                                "夜間に保健師が電話相談に応じる体制を試行した。"), now=NOW)
    built = index_store.load_index(db)
    k = index_store.key(db)
    return k, index_store.folder(db) / k, [outcome(built, q) for q in DAMAGE_QUESTIONS]


def _pickle_instead_of_scores(path: Path) -> None:
    np.save(path / "terms.case.data.npy", np.array([object()] * 3, dtype=object), allow_pickle=True)


def _indices_outside_the_cases(path: Path) -> None:
    a = np.load(path / "terms.case.indices.npy")
    a[-1] = 10_000_000
    np.save(path / "terms.case.indices.npy", a)


def _terms_outside_the_vocabulary(path: Path) -> None:
    a = np.load(path / "grams.passage.indices.npy")
    a[0] = 10_000_000
    np.save(path / "grams.passage.indices.npy", a)


def _passages_of_another_index(path: Path) -> None:
    a = np.load(path / "pstart.npy")
    a[-1] += 1
    np.save(path / "pstart.npy", a)


@pytest.mark.parametrize("damage", [
    lambda p: (p / "meta.json").write_text("{", encoding="utf-8"),
    lambda p: (p / "cases.jsonl").unlink(),
    lambda p: (p / "cases.jsonl").write_bytes((p / "cases.jsonl").read_bytes().replace("夜間".encode(), "昼間".encode())),
    lambda p: (p / "terms.case.indptr.npy").write_bytes((p / "terms.case.indptr.npy").read_bytes()[:100]),
    _pickle_instead_of_scores,
    _indices_outside_the_cases,
    _terms_outside_the_vocabulary,
    _passages_of_another_index,
    lambda p: (p / "vocab.json").write_text("{}", encoding="utf-8"),
    lambda p: (p / "meta.json").write_text(
        (p / "meta.json").read_text(encoding="utf-8").replace('"format": 2', '"format": 0'), encoding="utf-8"),
    lambda p: (p / "meta.json").write_text(
        (p / "meta.json").read_text(encoding="utf-8").replace('"pstart"', '"../pstart"'), encoding="utf-8"),
], ids=["meta", "missing-cases", "edited-case", "truncated", "pickle", "out-of-range", "term-out-of-range",
        "passage-offsets", "vocabulary", "other-format", "array-path"])
def test_a_damaged_or_tampered_index_is_rebuilt_not_trusted(pristine, tmp_path, damage):
    db = open_db(tmp_path / "nimo.db")
    import_local(db, local_case(tmp_path, "chiba-local-1", "夜間の電話相談の試行",
                                "夜間に保健師が電話相談に応じる体制を試行した。"), now=NOW)
    k, folder, want = pristine
    assert index_store.key(db) == k  # the same cases: the same key, wherever the database is
    shutil.copytree(folder, index_store.folder(db) / k)
    damage(index_store.folder(db) / k)
    rebuilt = index_store.load_index(db)
    assert getattr(rebuilt, "loaded_from", None) is None
    assert [outcome(rebuilt, q) for q in DAMAGE_QUESTIONS] == want
    again = index_store.load_index(db)  # the damaged folder was replaced by a good one
    assert again.loaded_from.name == k
    assert [outcome(again, q) for q in DAMAGE_QUESTIONS] == want


def _passage_offsets_going_back(path: Path) -> None:
    a = np.load(path / "terms.passage.indptr.npy")
    k = 5  # entries 4 and 5: the last of one block the check reads and the first of the next (5 a block)
    assert a[k - 1] < a[k]
    a[k - 1], a[k] = a[k], a[k - 1]
    np.save(path / "terms.passage.indptr.npy", a)


def test_the_checks_read_every_block_of_the_files(pristine, tmp_path, monkeypatch):
    """The entry checks read the files in blocks (not through the map): each block counts."""
    monkeypatch.setattr(index_store._Scan, "BLOCK", 5)
    k, folder, want = pristine
    # Each case its own numbered file: a name counted from the folder's entries could repeat an
    # earlier one once the garbage collector closes an earlier database (its -wal and -shm go),
    # which depends on what other threads allocate, and so on the machine's load.
    for n, (damage, loads) in enumerate(((lambda p: None, True), (_passage_offsets_going_back, False),
                                         (_indices_outside_the_cases, False),
                                         (_terms_outside_the_vocabulary, False))):
        db = open_db(tmp_path / f"{n}.db")
        import_local(db, local_case(tmp_path, "chiba-local-1", "夜間の電話相談の試行",
                                    "夜間に保健師が電話相談に応じる体制を試行した。"), now=NOW)
        shutil.copytree(folder, index_store.folder(db) / k)
        damage(index_store.folder(db) / k)
        index = index_store.load_index(db)
        assert (getattr(index, "loaded_from", None) is not None) == loads
        assert [outcome(index, q) for q in DAMAGE_QUESTIONS] == want


def test_the_key_is_the_same_whether_the_local_cases_are_streamed_or_read(db):
    sources = index_store._Sources(db)
    streamed = sources.key()  # a start that loads: rows hashed one at a time
    sources.read()            # a start that builds: the rows it then indexes
    assert [case_id for case_id, _ in sources.local] == ["chiba-local-1"]
    assert sources.key() == streamed == index_store.key(db)


def test_a_loaded_index_reads_its_cases_after_its_folder_is_gone_and_keeps_only_the_last(db, monkeypatch):
    built = CaseIndex(load_all(db))
    index_store.load_index(db)
    loaded = index_store.load_index(db)
    monkeypatch.setattr(loaded.cases, "_KEEP", 4)
    shutil.rmtree(loaded.loaded_from)  # a process that saved a newer index removed this one
    assert [loaded.cases[i] for i in range(len(built.cases))] == built.cases
    assert loaded.cases[-1] == built.cases[-1] and loaded.cases[1:3] == built.cases[1:3]
    assert len(loaded.cases._read) == 4  # the last records read, not every one


START = """
import json, sys
from storage.connections import open_db
from knowledge.index_store import load_index
index = load_index(open_db(sys.argv[1]))
print(json.dumps([[h.case.id, h.score] for h in index.search("家族会との連携").hits]))
"""


def test_processes_starting_together_share_one_saved_index(db):
    db_path = str(index_store.folder(db))[:-len(".index")]
    procs = [subprocess.Popen([sys.executable, "-c", START, db_path], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    answers = {out for out, _ in outs}
    assert len(answers) == 1 and json.loads(answers.pop())
    assert saved(db) == [index_store.key(db)]  # one index, no temporary folder left behind
    assert index_store.load_index(db).loaded_from is not None


# -- the app makes its index on first use -------------------------------------------------------
def test_the_app_loads_no_tokenizer_or_index_until_asked(tmp_path):
    code = f"""
import json, sys
import bot.app
app = bot.app.build_app(db_path={str(tmp_path / 'nimo.db')!r})
heavy = ("sudachipy", "bm25s", "numpy", "scipy", "knowledge.search")
print(json.dumps([m for m in heavy if m in sys.modules]))
app.index.search("家族会との連携")
print(json.dumps([m for m in heavy if m in sys.modules]))
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    before, after = (json.loads(line) for line in p.stdout.splitlines())
    assert before == []
    assert {"sudachipy", "numpy", "knowledge.search"} <= set(after)  # the check above can fail


def test_threads_asking_at_once_make_the_index_once(tmp_path, monkeypatch):
    from bot.app import build_app
    app = build_app(db_path=str(tmp_path / "nimo.db"))
    calls = []
    real = index_store.load_index

    def counting(db):
        calls.append(threading.get_ident())
        return real(db)

    monkeypatch.setattr(index_store, "load_index", counting)
    start = threading.Barrier(6)
    got = []

    def ask():
        start.wait()
        got.append(app.index)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(got) == 6 and len({id(i) for i in got}) == 1
    assert len(calls) == 1


def test_a_given_index_is_used_and_reload_cases_picks_up_an_import(tmp_path, index):
    from bot.app import build_app
    app = build_app(db_path=str(tmp_path / "nimo.db"), index=index)
    assert app.index is index
    import_local(app.db, local_case(tmp_path, "chiba-local-9", "夜間の電話相談の試行",
                                    "夜間に保健師が電話相談に応じる体制を試行した。"), now=NOW)
    assert "chiba-local-9" not in app.index.by_id
    app.reload_cases()
    assert "chiba-local-9" in app.index.by_id and app.index is not index
    assert [h.case.id for h in app.index.search("夜間の電話相談").hits][:1] == ["chiba-local-9"]


def test_build_app_keeps_its_keywords_and_app_its_fields(clock, index):
    from bot.app import App, build_app
    app = build_app(db=open_db(":memory:"), clock=clock, index=index)
    assert isinstance(app, App) and app.clock is clock and app.dialogs is not None
    replaced = App(app.db, index, clock, app.dialogs)  # positional, as the dataclass had it
    assert replaced.index is index and replaced.db is app.db
