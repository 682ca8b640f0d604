"""Hostile photos: colour profiles that carry text, and headers that promise billions of pixels.

An attacker found that a JPEG's APP2 ICC_PROFILE segments and a PNG's iCCP chunk were kept byte
for byte (an ICC profile has free-text tags: a description, a copyright), and that a PNG whose
header said 30000×30000 was stored and served.  The files are crafted here with struct and zlib;
the huge ones only in their headers (no pixels are allocated).  Real parts: our code, SQLite,
Flask, the router."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from bot import messages
from bot.reports import records as rp
from bot.people.access import add_user
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import PerThreadDB
from bot.reports.photos import MAX_PIXELS, PhotoError, recheck, store, strip_metadata

from .conftest import FIXED_NOW, Clock
from .test_console import Console
from .test_photos import (APP0, DHT, DQT, ENTROPY, EOI, PNG_SIG, RAW_SCANLINES, SOF0, SOI, SOS, chunk,
                          jpeg_segments, parse_png, seg)

SECRET = "Tanaka Hanako lives at 1-2-3 Chiba"


def icc_profile(text: str = SECRET) -> bytes:
    """A small ICC v2 profile whose 'desc' tag holds ``text`` (what a profile editor writes there)."""
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text) + 1) + text.encode() + b"\x00" + bytes(12 + 67)
    body_at = 128 + 4 + 12
    tags = struct.pack(">I", 1) + b"desc" + struct.pack(">II", body_at, len(desc))
    size = body_at + len(desc)
    header = (struct.pack(">I", size) + b"lcms" + b"\x02\x10\x00\x00" + b"mntrRGB XYZ " + bytes(12) + b"acsp"
              + bytes(128 - 40))
    return header + tags + desc


def jpeg_with_icc(parts: int = 1) -> bytes:
    """A JPEG whose profile is split over ``parts`` APP2 ICC_PROFILE segments (as large ones are)."""
    profile = icc_profile()
    step = -(-len(profile) // parts)
    app2 = b"".join(seg(0xE2, b"ICC_PROFILE\x00" + bytes((i + 1, parts)) + profile[i * step:(i + 1) * step])
                    for i in range(parts))
    return SOI + APP0 + app2 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def png_with_iccp() -> bytes:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    iccp = chunk(b"iCCP", b"Tanaka home camera\x00\x00" + zlib.compress(icc_profile()))
    return PNG_SIG + ihdr + iccp + chunk(b"IDAT", zlib.compress(RAW_SCANLINES)) + chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR says ``width``×``height``; its pixel data is one compressed row of nothing."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return PNG_SIG + ihdr + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int, dnl: int | None = None) -> bytes:
    """A JPEG whose frame header says ``width``×``height`` (height 0 with a DNL segment giving it)."""
    sof = seg(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")
    tail = seg(0xDC, struct.pack(">H", dnl)) if dnl is not None else b""
    return SOI + APP0 + DQT + sof + DHT + SOS + ENTROPY + tail + EOI


# -- colour profiles ------------------------------------------------------------------------------
@pytest.mark.parametrize("parts", [1, 3])
def test_a_jpeg_icc_profile_carrying_text_in_app2_is_stripped(parts):
    data = jpeg_with_icc(parts)
    profile = b"".join(s[4 + 14:] for s in jpeg_segments(data) if s[4:].startswith(b"ICC_PROFILE\x00"))
    assert profile == icc_profile() and SECRET.encode() in profile  # the attack file is what it claims
    out = strip_metadata(data)
    assert SECRET.encode() not in out and b"ICC_PROFILE" not in out
    assert out == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI  # the picture itself, unchanged


def test_a_png_iccp_chunk_carrying_text_is_stripped():
    out = strip_metadata(png_with_iccp())
    chunks = parse_png(out)
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert b"Tanaka" not in out and zlib.compress(icc_profile()) not in out
    assert zlib.decompress(dict(chunks)[b"IDAT"]) == RAW_SCANLINES


# -- pixel caps from the header -------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    png_claiming(30000, 30000),
    png_claiming(2 ** 31 - 1, 2 ** 31 - 1),
    png_claiming(MAX_PIXELS // 5000, 5001),
    jpeg_claiming(30000, 30000),
    jpeg_claiming(65535, 65535),
    jpeg_claiming(30000, 0, dnl=30000),
], ids=["png 30000x30000", "png 2^31x2^31", "png just over", "jpeg 30000x30000", "jpeg 65535x65535",
        "jpeg height from DNL"])
def test_a_header_promising_too_many_pixels_is_refused_in_japanese_and_nothing_is_stored(tmp_path, data):
    with pytest.raises(PhotoError) as e:
        store(data, tmp_path / "photos", name_hint="r1")
    assert str(e.value) == messages.PHOTO_TOO_MANY_PIXELS and "pixels" in e.value.detail
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").iterdir())


@pytest.mark.parametrize("data", [png_claiming(MAX_PIXELS // 5000, 5000), jpeg_claiming(8000, 5000),
                                  jpeg_claiming(8000, 0, dnl=5000)])
def test_a_header_at_the_pixel_cap_is_accepted(data):
    assert strip_metadata(data)


def test_a_png_of_zero_width_is_refused_as_broken():
    with pytest.raises(PhotoError) as e:
        strip_metadata(png_claiming(0, 30000))
    assert "壊れて" in str(e.value)


def test_a_huge_png_sent_in_a_report_gets_the_japanese_message_and_is_not_kept(index, tmp_path):
    app = build_app(db_path=str(tmp_path / "n.db"), clock=Clock(FIXED_NOW), index=index)
    add_user(app.db, "line", "U1", "staff", "千葉市", FIXED_NOW)

    def send(text="", photo=None):
        return app.handle(Incoming("line", "U1", "U1", text, True, event_id=f"e{text}{photo is None}", photo=photo))

    send("報告")
    replies = send(photo=png_claiming(30000, 30000))
    assert [r.text for r in replies] == [messages.PHOTO_TOO_MANY_PIXELS]
    photos = tmp_path / "photos"
    assert not photos.exists() or not any(photos.iterdir())


# -- the console serves only what passes today's checks -------------------------------------------
@pytest.fixture
def stored(tmp_path, clock):
    """A report with two photo files as they might lie on disk from before these checks: one with
    an ICC profile, one whose header promises 30000×30000 pixels."""
    db = PerThreadDB(tmp_path / "nimo.db")
    add_user(db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    folder = tmp_path / "photos"
    folder.mkdir()
    files = {"icc": folder / "old-icc.jpg", "huge": folder / "old-huge.png"}
    files["icc"].write_bytes(jpeg_with_icc())
    files["huge"].write_bytes(png_claiming(30000, 30000))
    d = rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area="千葉市", summary="表情明るい",
                 photos=tuple(str(p) for p in files.values()))
    rp.save(db, d, platform="line", author="Ustaff", source_key="s1", now=FIXED_NOW)
    ids = dict(zip(files, (r[0] for r in db.execute("SELECT id FROM report_photos ORDER BY id"))))
    con = Console(db, clock)
    return con, con.client(user="Usv"), ids, files


def test_the_console_sends_a_stored_photo_only_without_its_icc_profile(stored):
    con, c, ids, files = stored
    r = c.get(f"/photos/{ids['icc']}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert SECRET.encode() not in r.data and r.data == recheck(files["icc"].read_bytes())


def test_the_console_does_not_send_a_stored_photo_whose_header_promises_too_many_pixels(stored):
    con, c, ids, files = stored
    r = c.get(f"/photos/{ids['huge']}")
    assert r.status_code == 404 and messages.CONSOLE_PHOTO_REFUSED in r.get_data(as_text=True)
    assert r.mimetype == "text/html"
    assert Path(files["huge"]).exists()  # kept as evidence for the administrator; only not sent
