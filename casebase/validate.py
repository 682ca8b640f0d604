"""Validation of case records: required and unknown fields, types, and text not in the guide.

Used by ``nimo cases check``, by ``nimo cases import`` before a file is accepted, and by the tests.
Each problem names the file, the field and what is wrong, in Japanese, because curators read it.
Run directly (``python -m casebase.validate FILE...``) it checks the files given.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .faithful import Source, load_source
from .schema import FIELDS, FORUM_FIELDS, LEVELS, META, PARTS, STAGE_FIELDS

SOURCE_PATH = Path(__file__).parent / "source" / "guide-chapter4.txt"


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def _texts(kind: str, value) -> list[tuple[str, str]]:
    """(sub-field suffix, text) pairs of a value, for the source check."""
    if kind == "str":
        return [("", value)]
    if kind == "list":
        return [(f"[{i}]", v) for i, v in enumerate(value)]
    if kind == "forum":
        out = []
        for k, v in value.items():
            items = v if isinstance(v, list) else [v]
            out += [(f".{k}[{i}]" if isinstance(v, list) else f".{k}", t) for i, t in enumerate(items)]
        return out
    if kind == "stages":
        out = []
        for i, st in enumerate(value):
            out.append((f"[{i}].name", st["name"]))
            out += [(f"[{i}].text[{j}]", t) for j, t in enumerate(st["text"])]
        return out
    return []


def _type_problem(kind: str, value) -> str | None:
    def strs(v):
        return isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v)

    if kind == "str" and not (isinstance(value, str) and value.strip()):
        return "空でない文字列が必要です"
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return "0以上の整数が必要です"
    if kind == "list" and not strs(value):
        return "空でない文字列のリストが必要です"
    if kind == "forum":
        if not isinstance(value, dict) or not value:
            return "name / secretariat / members / notes を持つ表が必要です"
        unknown = set(value) - set(FORUM_FIELDS)
        if unknown:
            return f"知らない項目があります: {', '.join(sorted(unknown))}"
        for v in value.values():
            if not ((isinstance(v, str) and v.strip()) or strs(v)):
                return "各項目は文字列か文字列のリストにしてください"
    if kind == "stages":
        if not isinstance(value, list) or not value:
            return "段階（name と text）のリストが必要です"
        for st in value:
            if not isinstance(st, dict) or set(st) != set(STAGE_FIELDS):
                return "各段階は name と text だけを持ちます"
            if not (isinstance(st["name"], str) and st["name"].strip()) or not strs(st["text"]):
                return "name は文字列、text は文字列のリストにしてください"
    return None


def check_record(data, file: str, source: Source | None = None, *, local: bool = False) -> list[Problem]:
    """Every problem of one record.  ``local`` records (a prefecture's own) skip the guide check."""
    if not isinstance(data, dict):
        return [Problem(file, "-", "ファイルの中身が項目の表（YAML のマッピング）になっていません")]
    probs: list[Problem] = []
    for name in sorted(set(data) - set(FIELDS)):
        probs.append(Problem(file, name, "知らない項目です（綴りを確かめてください）"))
    typed: set[str] = set()  # fields present and of the right type: only these are looked into
    for name, (kind, required, heading) in FIELDS.items():
        if name not in data or data[name] is None:
            if required:
                probs.append(Problem(file, name, f"必須の項目がありません（{heading}）"))
            continue
        msg = _type_problem(kind, data[name])
        if msg:
            probs.append(Problem(file, name, msg))
        else:
            typed.add(name)
    if "level" in typed and data["level"] not in LEVELS:
        probs.append(Problem(file, "level", f"「{data['level']}」は使えません（{' / '.join(LEVELS)}）"))
    if "part" in typed and data["part"] not in PARTS:
        probs.append(Problem(file, "part", "1, 2, 3 のいずれかにしてください"))
    if local:
        return probs
    src = source or load_source(str(SOURCE_PATH))
    for name, (kind, _, _) in FIELDS.items():
        if name in META or name not in typed:
            continue
        for suffix, text in _texts(kind, data[name]):
            for miss in src.misses(text):
                probs.append(Problem(file, name + suffix, f"ガイドに見つからない文があります: 「{miss.text[:40]}」"))
    return probs


def check_file(path: Path, source: Source | None = None, *, local: bool = False) -> list[Problem]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return [Problem(str(path), "-", f"読み込めません: {e.__class__.__name__}")]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}行目" if mark else "どこか"
        return [Problem(str(path), "-", f"YAML として読めません（{where}）")]
    return check_record(data, str(path), source, local=local)


if __name__ == "__main__":
    bad = 0
    for p in sys.argv[1:]:
        for prob in check_file(Path(p)):
            print(prob)
            bad += 1
    print("OK" if not bad else f"{bad} 件の問題")
    sys.exit(1 if bad else 0)
