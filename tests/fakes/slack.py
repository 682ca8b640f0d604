"""A stand-in for the Slack Web API, for the calls Nimo makes: ``auth.test``, ``chat.postMessage``,
``views.publish`` (App Home), ``views.open`` (the report form), ``conversations.open``,
``users.info``, ``files_upload_v2`` (three calls: an upload URL, the bytes, the completion), a
``response_url``, and a shared file's ``url_private`` (bot token wanted).  Blocks and views are
checked with slack_sdk's models plus the limits and checks its parsers leave out.

``posted``: ``{"method", "channel", "user", "text", "blocks", "view", "ts", "args", ...}`` per
accepted message or view.  ``uploads``: ``{"file_id", "filename", "title", "channel",
"initial_comment", "thread_ts", "bytes", "file"}`` per shared file.  ``put_file(file_id, data)``
holds a file a user shared; ``users[id]`` overrides fields of ``users.info``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import itertools
import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from .base import Response, StandIn, first_line


def slack_headers(body: bytes, signing_secret: str, timestamp: int | None = None,
                  content_type: str = "application/json") -> dict:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` ("v0=" + hex HMAC-SHA256 of
    ``v0:{ts}:{body}``), plus ``Content-Type``.  ``timestamp`` defaults to now."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    sig = hmac.new(signing_secret.encode("utf-8"), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": "v0=" + sig, "Content-Type": content_type}


def _contains_none(x: Any) -> bool:
    """True if a list inside ``x`` holds None (slack_sdk's parsers turn unknown types into None)."""
    if isinstance(x, dict):
        return any(_contains_none(v) for v in x.values())
    return isinstance(x, list) and any(v is None or _contains_none(v) for v in x)


class SlackStandIn(StandIn):
    TEAM_ID, TEAM, BOT_USER_ID, BOT_ID = "T1", "nimo-test", "UBOT", "BBOT"
    MAX_BLOCKS, MAX_VIEW_BLOCKS, MAX_TEXT = 50, 100, 40000
    JSON_FIELDS = ("blocks", "view", "files")

    def __init__(self, bot_token: str = "xoxb-test"):
        self.bot_token = bot_token
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.posted: list[dict] = []
        self.users: dict[str, dict] = {}
        self.uploads: list[dict] = []
        self.files: dict[str, dict] = {}     # file id -> {"file": file object, "data": bytes}
        self._pending: dict[str, dict] = {}  # upload URLs handed out: file id -> filename, length, bytes
        self._ids = itertools.count(1)

    # -- for tests ---------------------------------------------------------------------------
    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    def texts(self) -> list[str]:
        with self._lock:
            return [p["text"] for p in self.posted if p.get("text")]

    def put_file(self, file_id: str, data: bytes, *, mimetype: str = "image/jpeg", name: str = "photo.jpg",
                 user: str = "U1") -> dict:
        """Hold a file shared in Slack; returns its file object, whose URLs point here (so start
        the stand-in first)."""
        if not self.url:
            raise RuntimeError("start the stand-in before put_file(): the file URLs need its address")
        with self._lock:
            return dict(self._register_file(file_id, bytes(data), name=name, mimetype=mimetype, user=user))

    def _register_file(self, file_id: str, data: bytes, *, name: str, mimetype: str, user: str, **extra) -> dict:
        base = f"{self.url}/files-pri/{self.TEAM_ID}-{file_id}"
        file = {"id": file_id, "name": name, "mimetype": mimetype, "size": len(data), "user": user,
                "url_private": f"{base}/{quote(name)}", "url_private_download": f"{base}/download/{quote(name)}",
                **extra}
        self.files[file_id] = {"file": file, "data": data}
        return file

    def _error_body(self, status: int, message: str | None) -> Any:
        return {"ok": False, "error": message or ("ratelimited" if status == 429 else "internal_error")}

    def _fail(self, rec: dict, error: str, detail: str = "", *, status: int = 200, client_error: bool = True) -> Response:
        return self._refuse(rec, status, {"ok": False, "error": error}, f"{error}: {detail}" if detail else error, client_error)

    def _dispatch(self, rec: dict) -> Response:
        path = rec["path"]
        for verb, start, handler in (("POST", "/response/", self._response_url), ("POST", "/upload/", self._upload_bytes),
                                     ("GET", "/files-pri/", self._file_download)):
            if rec["method"] == verb and path.startswith(start):
                return handler(rec)
        method = path[len("/api/"):] if path.startswith("/api/") else ""
        handler = {"auth.test": self._auth_test, "chat.postMessage": self._post_message,
                   "views.publish": self._views, "views.open": self._views,
                   "conversations.open": self._conversations_open, "users.info": self._users_info,
                   "files.getUploadURLExternal": self._get_upload_url,
                   "files.completeUploadExternal": self._complete_upload}.get(method)
        if handler is None:
            return self._fail(rec, "unknown_method", f"{rec['method']} {path}", status=404)
        auth = rec["headers"].get("Authorization")
        if auth != f"Bearer {self.bot_token}":
            return self._fail(rec, "invalid_auth" if auth else "not_authed")
        ctype = rec["headers"].get("Content-Type") or ""
        if "application/json" in ctype and isinstance(rec["json"], dict):
            args = {**rec["query"], **rec["json"]}
        elif "application/x-www-form-urlencoded" in ctype or not rec["body"]:
            rec["form"] = {k: v[-1] for k, v in parse_qs(rec["body"].decode("utf-8")).items()}
            args = {**rec["query"], **rec["form"]}
        else:
            return self._fail(rec, "invalid_form_data")
        try:  # form-encoded calls carry these as JSON strings
            args.update({k: json.loads(args[k]) for k in self.JSON_FIELDS if isinstance(args.get(k), str)})
        except ValueError:
            return self._fail(rec, "invalid_arguments", "blocks, view or files is not JSON")
        return handler(rec, method, args)

    def _record_post(self, method: str, args: dict, **extra) -> None:
        self.posted.append({"method": method, "channel": args.get("channel"), "user": args.get("user_id"),
                            "text": args.get("text"), "blocks": args.get("blocks"), "view": args.get("view"),
                            "thread_ts": args.get("thread_ts"), "ts": None, "args": args, **extra})

    def _check_blocks(self, blocks: Any, limit: int) -> str | None:
        """What Slack would refuse in ``blocks``, or None."""
        from slack_sdk.models.blocks import Block

        if not isinstance(blocks, list) or len(blocks) > limit or not all(isinstance(b, dict) for b in blocks):
            return f"blocks must be an array of at most {limit} objects"
        try:
            for i, (raw, blk) in enumerate(zip(blocks, Block.parse_all(blocks))):
                problem = self._raw_block_problem(raw) or ("" if blk else f"unknown block type {raw.get('type')!r}")
                if not problem:
                    blk.validate_json()  # to_dict() checks nested elements too: unknown ones become None
                    problem = "contains an element of unknown type" if _contains_none(blk.to_dict()) else None
                if problem:
                    return f"blocks[{i}]: {problem}"
        except Exception as exc:
            return first_line(exc)
        return None

    @staticmethod
    def _raw_block_problem(b: dict) -> str | None:
        """Text objects where slack_sdk's parsers would quietly turn a string into one."""
        def text_obj(x: Any, where: str, plain: bool = False) -> str | None:
            if x is None:
                return f"{where} is required"
            if not isinstance(x, dict) or x.get("type") not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
                return f"{where} must be a {'plain_text' if plain else 'text'} object"
            return None if isinstance(x.get("text"), str) else f"{where}.text is required"

        if b.get("type") == "header":
            return text_obj(b.get("text"), "text", plain=True)
        found = [text_obj(b["text"], "text")] if b.get("type") == "section" and "text" in b else []
        found += [text_obj(f, f"fields[{i}]") for i, f in enumerate(b.get("fields") or [])]
        elements = b.get("elements") if b.get("type") == "actions" else [b.get("accessory")]
        found += [text_obj(e.get("text"), f"elements[{i}].text", plain=True)
                  for i, e in enumerate(elements or []) if isinstance(e, dict) and e.get("type") == "button"]
        return next((p for p in found if p), None)

    def _message_problem(self, args: dict) -> tuple[str, str] | None:
        """(Slack's error, why) for a message (``text`` and/or ``blocks``) Slack would refuse."""
        text = args.get("text")
        if text is not None and not isinstance(text, str) or len(text or "") > self.MAX_TEXT:
            return "msg_too_long", "text must be a string of at most 40,000 characters"
        problem = self._check_blocks(args["blocks"], self.MAX_BLOCKS) if args.get("blocks") is not None else None
        if problem:
            return "invalid_blocks", problem
        return None if text or args.get("blocks") or args.get("delete_original") else ("no_text", "")

    def _auth_test(self, rec: dict, method: str, args: dict) -> Response:
        return Response(200, {"ok": True, "url": f"https://{self.TEAM}.slack.com/", "team": self.TEAM, "user": "nimo",
                              "team_id": self.TEAM_ID, "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID})

    def _post_message(self, rec: dict, method: str, args: dict) -> Response:
        problem = self._message_problem(args) if args.get("channel") else ("channel_not_found", "")
        if problem:
            return self._fail(rec, *problem)
        ts = f"{1700000000 + (n := next(self._ids))}.{n:06d}"
        self._record_post(method, args, ts=ts)
        return Response(200, {"ok": True, "channel": args["channel"], "ts": ts})

    def _views(self, rec: dict, method: str, args: dict) -> Response:
        """``views.publish`` (a home tab, for ``user_id``) and ``views.open`` (a modal, for a
        ``trigger_id``)."""
        from slack_sdk.models.views import View

        kind, who = ("home", "user_id") if method == "views.publish" else ("modal", "trigger_id")
        view = args.get("view")
        if not args.get(who) or not isinstance(view, dict) or view.get("type") != kind or not (view.get("title") or kind == "home"):
            return self._fail(rec, "invalid_arguments", f"{who} and a {kind} view (a modal has a title) are required")
        try:
            problem = self._check_blocks(view.get("blocks"), self.MAX_VIEW_BLOCKS) or View(**view).validate_json()
        except Exception as exc:
            problem = first_line(exc)
        if problem:
            return self._fail(rec, "invalid_arguments", problem)
        view_id = f"V{next(self._ids):08d}"
        self._record_post(method, args, view_id=view_id)
        return Response(200, {"ok": True, "view": {**view, "id": view_id, "team_id": self.TEAM_ID}})

    def _conversations_open(self, rec: dict, method: str, args: dict) -> Response:
        if not args.get("users") or "," in args["users"]:  # Nimo opens a DM with one person
            return self._fail(rec, "users_list_not_supplied", "one user")
        return Response(200, {"ok": True, "channel": {"id": "D" + args["users"], "is_im": True}})

    def _users_info(self, rec: dict, method: str, args: dict) -> Response:
        uid = args.get("user")
        if not uid:
            return self._fail(rec, "user_not_found", "user is required")
        user = {"id": uid, "team_id": self.TEAM_ID, "name": uid.lower(), "real_name": f"User {uid}", "tz": "Asia/Tokyo",
                "is_bot": False, "deleted": False, "profile": {"real_name": f"User {uid}", "display_name": uid.lower()}}
        return Response(200, {"ok": True, "user": {**user, **self.users.get(uid, {})}})

    # -- files -------------------------------------------------------------------------------
    def _get_upload_url(self, rec: dict, method: str, args: dict) -> Response:
        length = str(args.get("length", ""))
        if not args.get("filename") or not length.isdigit() or int(length) < 1:
            return self._fail(rec, "invalid_arguments", "filename and a positive length are required")
        file_id = f"F{next(self._ids):08d}"
        self._pending[file_id] = {"filename": args["filename"], "length": int(length), "bytes": None}
        return Response(200, {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id})

    def _upload_bytes(self, rec: dict) -> Response:
        """The raw bytes, without a token (the real URL is signed); their length is checked later."""
        pending = self._pending.get(rec["path"][len("/upload/"):])
        if pending is None:
            return self._refuse(rec, 404, "Not Found", "no upload URL was issued for it (or it was completed)")
        pending["bytes"] = rec["body"]  # a retry replaces the bytes
        return Response(200, f"OK - {len(rec['body'])}")

    def _complete_upload(self, rec: dict, method: str, args: dict) -> Response:
        """Shares the file uploaded to its URL (Nimo shares one at a time, to one ``channel_id``)."""
        try:
            [f] = args.get("files") or ()
            pending, comment = self._pending.get(f["id"]), args.get("initial_comment")
        except (TypeError, ValueError, KeyError):
            return self._fail(rec, "invalid_arguments", "files must be a JSON array of one {id, title}")
        if args.get("channels") or len(comment or "") > self.MAX_TEXT:
            return self._fail(rec, "invalid_arguments", "channel_id, and initial_comment of at most 40,000")
        if pending is None:
            done = any(u["file_id"] == f["id"] for u in self.uploads)  # completing twice: no client bug
            return self._fail(rec, "file_not_found", f"{f['id']}: no upload URL or completed", client_error=not done)
        if pending["bytes"] is None or len(pending["bytes"]) != pending["length"]:
            return self._fail(rec, "file_upload_size_mismatch" if pending["bytes"] else "file_not_found",
                              f"{f['id']}: not the {pending['length']} bytes announced")
        del self._pending[f["id"]]
        name, title = pending["filename"], f.get("title") or pending["filename"]
        file = self._register_file(f["id"], pending["bytes"], name=name, title=title, user=self.BOT_USER_ID,
                                   mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream")
        self.uploads.append({"file_id": f["id"], "filename": name, "title": title, "channel": args.get("channel_id"),
                             "initial_comment": comment, "thread_ts": args.get("thread_ts"),
                             "bytes": pending["bytes"], "file": dict(file)})
        return Response(200, {"ok": True, "files": [dict(file)]})

    def _file_download(self, rec: dict) -> Response:
        """``url_private`` / ``url_private_download``: with the bot token as a Bearer header only."""
        m = re.fullmatch(r"/files-pri/([^/-]+)-([^/]+)/(?:download/)?([^/]+)", rec["path"])
        held = self.files.get(m.group(2)) if m and m.group(1) == self.TEAM_ID else None
        if rec["headers"].get("Authorization") != f"Bearer {self.bot_token}":
            status, reason = 403, "Authorization: Bearer <bot token> is missing or wrong"
        elif held is None or unquote(m.group(3)) != held["file"]["name"]:
            status, reason = 404, "no such file"
        else:
            return Response(200, held["data"], {"Content-Type": held["file"]["mimetype"]})
        return self._refuse(rec, status, reason, reason)

    def _response_url(self, rec: dict) -> Response:
        """A ``response_url``: a JSON message, answered ``ok`` (or a plain error word with 400)."""
        body = rec["json"]
        problem = self._message_problem(body) if isinstance(body, dict) else ("invalid_payload", "")
        if problem:
            return self._refuse(rec, 400, problem[0], ": ".join(problem))
        self._record_post("response_url", body, path=rec["path"], response_type=body.get("response_type"),
                          replace_original=body.get("replace_original"))
        return Response(200, "ok")
