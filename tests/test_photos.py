"""bot.reports.photos: location and identity metadata is removed from JPEG and PNG photos before they are
stored; the image data itself is left byte for byte; anything else, or anything broken, is refused
with a Japanese sentence.  Fixtures are built here with struct/zlib (no binary files in the repo)."""
from __future__ import annotations

import os
import random
import stat
import struct
import zlib

import pytest

from bot.reports.photos import MAX_BYTES, PhotoError, kind, store, strip_metadata

# --- fixture builders ----------------------------------------------------------------------------

PNG_SIG = b"\x89PNG\r\n\x1a\n"
RAW_SCANLINES = bytes([0, 255, 0, 0, 0, 255, 0,      # filter 0, red, green
                       0, 0, 0, 255, 255, 255, 255])  # filter 0, blue, white


def chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def png_with_metadata() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 2×2, 8-bit RGB
    exif = b"MM\x00\x2a\x00\x00\x00\x08" + b"GPS 35.6812N 139.7671E"
    return (PNG_SIG + chunk(b"IHDR", ihdr)
            + chunk(b"tEXt", b"Comment\x00Taken at Tanaka's home")
            + chunk(b"eXIf", exif)
            + chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))
            + chunk(b"tIME", struct.pack(">HBBBBB", 2026, 11, 24, 9, 30, 0))
            + chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>")
            + chunk(b"prVt", b"private unknown chunk")
            + chunk(b"IDAT", zlib.compress(RAW_SCANLINES))
            + chunk(b"IEND", b""))


def parse_png(data: bytes) -> list[tuple[bytes, bytes]]:
    """Chunks of a PNG, checking the signature, every CRC and that the file ends at IEND."""
    assert data[:8] == PNG_SIG
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(ctype + payload), ctype
        chunks.append((ctype, payload))
        pos += 12 + length
    assert pos == len(data) and chunks[-1][0] == b"IEND"
    return chunks


def seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0 = seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
EXIF = seg(0xE1, b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01\x88\x25GPS\x00N 35.68 E 139.76")
XMP = seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>35,40N</exif:GPSLatitude>")
COM = seg(0xFE, b"Tanaka home visit")
DQT = seg(0xDB, b"\x00" + bytes(range(1, 65)))
SOF0 = seg(0xC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00")
DHT = seg(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
DRI = seg(0xDD, b"\x00\x04")
SOS = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
# entropy-coded data with a stuffed 0xFF00 and RST markers; must survive byte for byte
ENTROPY = b"\x12\x34\xff\x00\x56\xff\xd0\x78\x9a\xff\x00\xff\xd1\xbc"
ICC = seg(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"fake-profile")
MPF = seg(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00")
ADOBE = seg(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x02")
IPTC = seg(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00City: Funabashi")


def jpeg_with_metadata() -> bytes:
    return SOI + APP0 + EXIF + XMP + COM + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def jpeg_segments(data: bytes) -> list[bytes]:
    """The marker segments (marker + length + payload) before the first SOS."""
    assert data[:2] == SOI
    pos, segs = 2, []
    while data[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        segs.append(data[pos:pos + 2 + length])
        pos += 2 + length
    return segs


# --- kind ----------------------------------------------------------------------------------------

def test_kind_by_magic_bytes():
    assert kind(jpeg_with_metadata()) == "jpeg"
    assert kind(png_with_metadata()) == "png"


@pytest.mark.parametrize("data", [
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"RIFF\x1a\x00\x00\x00WEBPVP8 ",
    b"%PDF-1.7\n",
    bytes(random.Random(1).randrange(256) for _ in range(200)),
    b"",
    b"\xff\xd8",  # too short to be a JPEG
])
def test_other_formats_are_refused(data):
    with pytest.raises(PhotoError) as e:
        kind(data)
    assert "形式" in str(e.value)
    with pytest.raises(PhotoError) as e:
        strip_metadata(data)
    assert "形式" in str(e.value)


def test_gif_message_is_the_japanese_sentence():
    with pytest.raises(PhotoError) as e:
        strip_metadata(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    assert str(e.value) == "この形式の画像は受け付けていません（JPEG・PNG のみ）。"
    assert isinstance(e.value, ValueError)


# --- PNG -----------------------------------------------------------------------------------------

def test_png_metadata_is_removed_and_image_is_unchanged():
    original = png_with_metadata()
    out = strip_metadata(original)
    chunks = parse_png(out)
    types = [t for t, _ in chunks]
    assert types == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    for gone in (b"eXIf", b"tEXt", b"tIME", b"iTXt", b"prVt", b"GPS", b"Tanaka", b"xmp"):
        assert gone not in out
    idat = b"".join(p for t, p in chunks if t == b"IDAT")
    assert zlib.decompress(idat) == RAW_SCANLINES
    assert dict(chunks)[b"IHDR"] == dict(parse_png(original))[b"IHDR"]


def test_png_keeps_rendering_chunks_in_order():
    keep = [chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 3, 0, 0, 0)),
            chunk(b"sBIT", b"\x08\x08\x08"), chunk(b"gAMA", struct.pack(">I", 45455)),
            chunk(b"cHRM", bytes(32)), chunk(b"sRGB", b"\x00"),
            chunk(b"PLTE", b"\xff\x00\x00"), chunk(b"tRNS", b"\x80"), chunk(b"bKGD", b"\x00"),
            chunk(b"pHYs", struct.pack(">IIB", 1, 1, 0)),
            chunk(b"IDAT", zlib.compress(b"\x00\x00")), chunk(b"IEND", b"")]
    data = PNG_SIG + b"".join(keep)
    assert strip_metadata(data) == data


def test_png_split_idat_and_apng_frames():
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    z = zlib.compress(RAW_SCANLINES)
    data = (PNG_SIG + ihdr + chunk(b"acTL", bytes(8)) + chunk(b"fcTL", bytes(26))
            + chunk(b"IDAT", z[:5]) + chunk(b"IDAT", z[5:]) + chunk(b"fdAT", bytes(8))
            + chunk(b"IEND", b""))
    chunks = parse_png(strip_metadata(data))
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"IDAT", b"IEND"]
    assert zlib.decompress(b"".join(p for t, p in chunks if t == b"IDAT")) == RAW_SCANLINES


def test_png_data_after_iend_is_dropped():
    data = png_with_metadata() + b"trailing GPS 35.68N"
    assert b"GPS" not in strip_metadata(data)


def test_png_bad_crc_is_refused():
    data = bytearray(png_with_metadata())
    i = data.index(b"tEXt") + 6  # inside a chunk that would be dropped anyway
    data[i] ^= 0x01
    with pytest.raises(PhotoError) as e:
        strip_metadata(bytes(data))
    assert str(e.value) == "画像が壊れているようです。"


@pytest.mark.parametrize("damage", ["first_not_ihdr", "no_idat", "bad_type", "huge_length"])
def test_png_broken_structure_is_refused(damage):
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    idat, iend = chunk(b"IDAT", zlib.compress(RAW_SCANLINES)), chunk(b"IEND", b"")
    data = {
        "first_not_ihdr": PNG_SIG + idat + ihdr + iend,
        "no_idat": PNG_SIG + ihdr + iend,
        "bad_type": PNG_SIG + ihdr + chunk(b"ID\x00T", b"") + idat + iend,
        "huge_length": PNG_SIG + ihdr + b"\xff\xff\xff\xf0IDAT" + b"\x00" * 20,
    }[damage]
    with pytest.raises(PhotoError):
        strip_metadata(data)


def test_every_truncated_png_is_refused():
    data = png_with_metadata()
    for cut in range(len(data)):
        with pytest.raises(PhotoError):
            strip_metadata(data[:cut])


# --- JPEG ----------------------------------------------------------------------------------------

def test_jpeg_metadata_is_removed_and_scan_is_unchanged():
    original = jpeg_with_metadata()
    out = strip_metadata(original)
    for gone in (b"Exif", b"GPS", b"xap", b"xmpmeta", b"Tanaka", b"\xff\xfe"):
        assert gone not in out
    assert jpeg_segments(out) == [APP0, DQT, SOF0, DHT]
    s = original.index(SOS)
    assert out.endswith(original[s:])  # SOS ... EOI byte for byte
    assert out == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_reserved_markers_are_dropped():
    data = SOI + APP0 + seg(0x84, b"Exif\x00\x00GPS") + seg(0xF1, b"x") + seg(0xC8, b"y") \
        + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert strip_metadata(data) == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_keeps_adobe_drops_icc_and_other_app_segments():
    data = (SOI + APP0 + ICC + MPF + IPTC + seg(0xE0, b"AVI1\x00") + seg(0xEF, b"x") + ADOBE
            + DQT + SOF0 + DHT + DRI + SOS + ENTROPY + EOI)
    out = strip_metadata(data)
    assert jpeg_segments(out) == [APP0, ADOBE, DQT, SOF0, DHT, DRI]
    assert b"MPF" not in out and b"Funabashi" not in out and b"AVI1" not in out


def jfxx_thumbnail(secret: bytes) -> bytes:
    """An APP0 JFXX segment whose thumbnail (extension code 0x10) is a whole JPEG with Exif."""
    thumb = SOI + EXIF + seg(0xFE, secret) + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    return seg(0xE0, b"JFXX\x00\x10" + thumb)


def jpeg_structure(data: bytes) -> list[int]:
    """The markers of a JPEG from SOI to EOI, walking segment lengths and skipping scans; fails
    on anything after EOI."""
    assert data[:2] == SOI
    pos, markers = 2, [0xD8]
    while True:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xD9:
            assert pos + 2 == len(data)
            return markers
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        pos += 2 + length
        if marker == 0xDA:
            while not (data[pos] == 0xFF and data[pos + 1] not in (0x00, *range(0xD0, 0xD8))):
                pos += 1


@pytest.mark.parametrize("code, thumbnail", [
    (0x10, None),                                       # a JPEG thumbnail (with Exif, built above)
    (0x11, b"\x02\x01" + bytes(768) + b"\x00\x01"),    # 1-byte-per-pixel palette thumbnail
    (0x13, b"\x02\x01" + b"\x10\x20\x30" * 2),          # RGB thumbnail
], ids=["jpeg", "palette", "rgb"])
def test_jpeg_jfxx_thumbnail_is_dropped(code, thumbnail):
    secret = b"NIMO-THUMB-Tanaka-home"
    jfxx = jfxx_thumbnail(secret) if thumbnail is None else seg(0xE0, b"JFXX\x00" + bytes([code]) + thumbnail + secret)
    data = SOI + APP0 + jfxx + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    if thumbnail is None:
        assert b"Exif" in data and data.count(SOI) == 2
    out = strip_metadata(data)
    for gone in (secret, b"JFXX", b"Exif", b"GPS", b"\xff\xfe"):
        assert gone not in out
    assert out == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert jpeg_structure(out) == [0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9]
    assert out.count(SOI) == 1 and out.count(EOI) == 1


def test_jpeg_jfxx_alone_and_before_jfif_is_dropped():
    data = SOI + jfxx_thumbnail(b"secret") + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert strip_metadata(data) == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    data = SOI + jfxx_thumbnail(b"secret") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert strip_metadata(data) == SOI + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_jfif_keeps_its_fields_but_not_its_own_thumbnail():
    fields = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48"  # version 1.02, dpi, 72×72
    rgb_thumb = b"\x02\x01" + b"NIMO-RGB"[:6]            # 2×1 pixels, 6 bytes of RGB
    data = SOI + seg(0xE0, fields + rgb_thumb + b"trailing") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    out = strip_metadata(data)
    assert out == SOI + seg(0xE0, fields + b"\x00\x00") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert b"NIMO" not in out and b"trailing" not in out
    short = SOI + seg(0xE0, b"JFIF\x00\x01") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI  # too short to be JFIF
    assert strip_metadata(short) == SOI + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_adobe_segment_is_cut_to_its_fields():
    data = SOI + APP0 + seg(0xEE, ADOBE[4:] + b"Funabashi") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert strip_metadata(data) == SOI + APP0 + ADOBE + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    data = SOI + APP0 + seg(0xEE, b"Adobe\x00") + DQT + SOF0 + DHT + SOS + ENTROPY + EOI  # too short to use
    assert strip_metadata(data) == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_only_display_segments_survive_every_app_marker():
    apps = b"".join(seg(m, b"Exif\x00\x00" + bytes([m]) + b" NIMO-APP") for m in range(0xE0, 0xF0))
    data = SOI + APP0 + ICC + apps + MPF + IPTC + ADOBE + COM + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    out = strip_metadata(data)
    assert b"NIMO-APP" not in out and b"Exif" not in out and b"MPF" not in out and b"Photoshop" not in out
    assert jpeg_structure(out) == [0xD8, 0xE0, 0xEE, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9]


def test_png_drops_every_text_time_and_exif_chunk():
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    meta = [chunk(b"eXIf", b"MM\x00\x2aNIMO-1"), chunk(b"tEXt", b"Author\x00NIMO-2"),
            chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"NIMO-3")),
            chunk(b"iTXt", b"Title\x00\x00\x00ja\x00\x00NIMO-4"), chunk(b"tIME", struct.pack(">HBBBBB", 2026, 1, 1, 0, 0, 0))]
    data = PNG_SIG + ihdr + b"".join(meta) + chunk(b"IDAT", zlib.compress(RAW_SCANLINES)) + b"".join(meta) \
        + chunk(b"IEND", b"")
    out = strip_metadata(data)
    assert [t for t, _ in parse_png(out)] == [b"IHDR", b"IDAT", b"IEND"]
    assert b"NIMO" not in out and b"tIME" not in out and b"zTXt" not in out


def test_jpeg_progressive_scans_and_metadata_between_them():
    second_scan = b"\x01\x02\xff\x00\x03"
    data = (SOI + APP0 + DQT + seg(0xC2, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00") + DHT
            + SOS + ENTROPY + COM + EXIF + DHT + SOS + second_scan + EOI)
    out = strip_metadata(data)
    assert out == (SOI + APP0 + DQT + seg(0xC2, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00") + DHT
                   + SOS + ENTROPY + DHT + SOS + second_scan + EOI)


def test_jpeg_fill_bytes_and_standalone_markers():
    data = (SOI + b"\xff\xff" + APP0 + b"\xff\xff\xff" + EXIF + b"\xff" + DQT + b"\xff\x01" + SOF0
            + DHT + SOS + ENTROPY + b"\xff\xff" + EOI)
    out = strip_metadata(data)
    assert b"Exif" not in out
    assert out == SOI + APP0 + DQT + b"\xff\x01" + SOF0 + DHT + SOS + ENTROPY + EOI


def test_jpeg_trailing_data_after_eoi_is_dropped():
    # phones append MPF previews / depth maps (each with its own Exif) or a Motion Photo video
    appended = SOI + EXIF + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    out = strip_metadata(jpeg_with_metadata() + appended)
    assert out == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI


@pytest.mark.parametrize("data", [
    SOI + APP0 + DQT + SOF0 + DHT + EOI,                      # no scan at all
    SOI + APP0 + b"\x00" + DQT + SOF0 + DHT + SOS + ENTROPY + EOI,  # garbage between segments
    SOI + APP0 + b"\xff\x00" + DQT + SOF0 + DHT + SOS + ENTROPY + EOI,
    SOI + APP0 + SOI + DQT + SOF0 + DHT + SOS + ENTROPY + EOI,
    SOI + b"\xff\xe0\x00\x01" + DQT + SOF0 + DHT + SOS + ENTROPY + EOI,  # length < 2
])
def test_jpeg_broken_structure_is_refused(data):
    with pytest.raises(PhotoError) as e:
        strip_metadata(data)
    assert str(e.value) == "画像が壊れているようです。"


def test_truncated_jpeg_is_refused():
    data = jpeg_with_metadata()
    with pytest.raises(PhotoError) as e:
        strip_metadata(data[:data.index(DQT) + 10])  # inside a segment
    assert str(e.value) == "画像が壊れているようです。"
    for cut in range(len(data)):  # every prefix, down to the empty file
        with pytest.raises(PhotoError):
            strip_metadata(data[:cut])


def test_damaged_files_only_ever_raise_photo_error():
    rng = random.Random(20261124)
    for base in (jpeg_with_metadata(), png_with_metadata()):
        for _ in range(1500):
            data = bytearray(base)
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(3, len(data))] = rng.randrange(256)
            try:
                out = strip_metadata(bytes(data))
            except PhotoError:
                continue
            assert out[:3] == base[:3] and len(out) <= len(data)


def test_hostile_files_are_refused_quickly_by_structure_not_by_time():
    """A 10 MB file of tiny segments or chunks is refused as broken (no encoder writes 16,384 of
    them), and long runs of fill bytes or stuffed bytes are walked by the regex engine: the answer
    is a PhotoError, whatever the file.  (Speed is measured in the report's benchmark, not here.)"""
    from bot.reports.photos import MAX_PARTS
    many_com = SOI + COM * (MAX_PARTS + 1) + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    with pytest.raises(PhotoError, match="壊れて"):
        strip_metadata(many_com)
    fewer = SOI + COM * (MAX_PARTS - 10) + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    assert strip_metadata(fewer) == SOI + APP0 + DQT + SOF0 + DHT + SOS + ENTROPY + EOI
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    many_chunks = PNG_SIG + ihdr + chunk(b"tEXt", b"") * MAX_PARTS + chunk(b"IDAT", zlib.compress(RAW_SCANLINES)) \
        + chunk(b"IEND", b"")
    with pytest.raises(PhotoError, match="壊れて"):
        strip_metadata(many_chunks)
    stuffed = SOI + APP0 + DQT + SOF0 + DHT + SOS + b"\xff\x00" * 500_000 + b"\xff" * 1000 + EOI
    assert strip_metadata(stuffed) == SOI + APP0 + DQT + SOF0 + DHT + SOS + b"\xff\x00" * 500_000 + EOI
    with pytest.raises(PhotoError, match="壊れて"):
        strip_metadata(SOI + APP0 + DQT + SOF0 + DHT + SOS + b"\xff\x00" * 500_000 + b"\xff" * 1000)


# --- size ----------------------------------------------------------------------------------------

def test_too_large_is_refused_before_parsing(tmp_path):
    big = b"\xff\xd8\xff" + bytes(MAX_BYTES - 2)  # MAX_BYTES + 1, and not a valid JPEG at all
    assert len(big) == MAX_BYTES + 1
    with pytest.raises(PhotoError) as e:
        strip_metadata(big)
    assert "大きすぎ" in str(e.value)
    assert str(e.value) == "写真が大きすぎます（最大10MB）。"
    with pytest.raises(PhotoError, match="大きすぎ"):
        store(big, tmp_path / "photos", name_hint="r1")
    assert not (tmp_path / "photos").exists()


def test_exactly_max_bytes_is_accepted():
    small = jpeg_with_metadata()
    padded = small[:-2] + bytes(MAX_BYTES - len(small)) + EOI  # filler inside the entropy data
    assert len(padded) == MAX_BYTES
    assert strip_metadata(padded).endswith(bytes(100) + EOI)


# --- store ---------------------------------------------------------------------------------------

def test_store_writes_once_with_expected_name_and_mode(tmp_path):
    import hashlib

    directory = tmp_path / "data" / "photos"
    data = jpeg_with_metadata()
    path = store(data, directory, name_hint="report-42")
    clean = strip_metadata(data)
    assert path == directory / f"report-42-{hashlib.sha256(clean).hexdigest()[:12]}.jpg"
    assert path.read_bytes() == clean
    assert b"Exif" not in path.read_bytes() and b"GPS" not in path.read_bytes()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.stat()

    again = store(data, directory, name_hint="report-42")
    assert again == path
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns
    assert os.listdir(directory) == [path.name]  # no temp files left behind


def test_store_png_and_same_image_with_other_metadata(tmp_path):
    p1 = store(png_with_metadata(), tmp_path, name_hint="r7")
    assert p1.suffix == ".png" and p1.parent == tmp_path
    parse_png(p1.read_bytes())
    # the same picture with different metadata is the same stored file
    other = png_with_metadata().replace(b"Tanaka's home", b"another place")
    other = PNG_SIG + b"".join(chunk(t, p) for t, p in parse_png_loose(other))
    assert store(other, tmp_path, name_hint="r7") == p1


def parse_png_loose(data: bytes) -> list[tuple[bytes, bytes]]:
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_store_refuses_bad_photos_and_writes_nothing(tmp_path):
    with pytest.raises(PhotoError, match="形式"):
        store(b"GIF89a....", tmp_path / "p", name_hint="r1")
    with pytest.raises(PhotoError):
        store(jpeg_with_metadata()[:-5], tmp_path / "p", name_hint="r1")
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("hint", ["", "../x", "a/b", ".hidden", "田中", "x" * 65, "a b"])
def test_store_refuses_unsafe_name_hints(tmp_path, hint):
    with pytest.raises(ValueError):
        store(jpeg_with_metadata(), tmp_path, name_hint=hint)
    assert os.listdir(tmp_path) == []
