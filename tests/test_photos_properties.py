"""Properties of the photo stripper, for any input Hypothesis can find: it returns stripped bytes or
refuses with its own PhotoError (never another exception), and what it returns holds no Exif, JFXX,
thumbnail, comment or text metadata, walks cleanly from start to end, and is left unchanged by a
second pass."""
from __future__ import annotations

import struct
import zlib

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.reports.photos import PhotoError, strip_metadata

from .test_photos import (ADOBE, APP0, COM, DHT, DQT, DRI, ENTROPY, EOI, EXIF, ICC, IPTC, MPF, PNG_SIG, SOF0, SOI,
                          SOS, XMP, chunk, jfxx_thumbnail, png_with_metadata, seg)

# database=None: nothing is written into the working tree (.hypothesis/); failures print their seed
FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Markers a stripped JPEG may hold outside its scans: SOI/EOI, RSTn/TEM, the decoder's segments,
# APP0 (JFIF only), APP14 (Adobe only).
DECODER = {m for m in range(0xC0, 0xD0) if m != 0xC8} | {0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF7, 0xF8}
PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD"}

JFIF_THUMB = seg(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x02\x01" + b"RGBRGB")  # a 2×1 thumbnail in JFIF
SEEDS_JPEG = [
    SOI + APP0 + EXIF + XMP + COM + DQT + SOF0 + DHT + SOS + ENTROPY + EOI,
    SOI + JFIF_THUMB + jfxx_thumbnail(b"NIMO-THUMB") + ICC + MPF + IPTC + ADOBE + DQT + SOF0 + DHT + DRI + SOS
    + ENTROPY + COM + EXIF + DHT + SOS + b"\x01\x02\xff\x00\x03" + EOI + SOI + EXIF + EOI,
]
SEEDS_PNG = [png_with_metadata()]


def check_jpeg(out: bytes) -> None:
    """Walk a stripped JPEG by its segment lengths; fail on anything not needed to show it."""
    assert out[:2] == SOI and out.endswith(EOI)
    pos, n = 2, len(out)
    while True:
        assert out[pos] == 0xFF
        marker = out[pos + 1]
        pos += 2
        if marker == 0xD9:
            assert pos == n, "nothing may follow EOI"
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        assert marker not in (0xD8, 0x00)
        (length,) = struct.unpack(">H", out[pos:pos + 2])
        payload = out[pos + 2:pos + length]
        if marker == 0xE0:
            assert payload.startswith(b"JFIF\x00") and len(payload) == 14 and payload[12:] == b"\x00\x00"
        elif marker == 0xEE:
            assert payload.startswith(b"Adobe") and len(payload) == 12
        else:
            assert marker in DECODER, f"marker {marker:#04x} survived"
        pos += length
        if marker == 0xDA:  # entropy-coded data: up to the next real marker
            while not (out[pos] == 0xFF and out[pos + 1] not in (0x00, 0xFF, *range(0xD0, 0xD8))):
                pos += 1


def check_png(out: bytes) -> None:
    assert out[:8] == PNG_SIG
    pos = 8
    while pos < len(out):
        (length,) = struct.unpack(">I", out[pos:pos + 4])
        ctype = out[pos + 4:pos + 8]
        assert ctype in PNG_KEEP, f"chunk {ctype!r} survived"
        pos += 12 + length
    assert pos == len(out) and out[-12:] == chunk(b"IEND", b"")


def strip_or_refuse(data: bytes) -> bytes | None:
    """The stripper's answer; any exception but PhotoError fails the test."""
    try:
        out = strip_metadata(data)
    except PhotoError as e:
        assert str(e) and e.detail  # a sentence for the user, a detail for the log
        return None
    assert len(out) <= len(data)
    if out[:2] == SOI:
        check_jpeg(out)
    else:
        check_png(out)
    assert strip_metadata(out) == out  # nothing left to strip
    return out


@FAST
@given(st.binary(max_size=4096))
@example(b"")
@example(SOI + b"\xff")
@example(PNG_SIG)
def test_any_bytes(data):
    strip_or_refuse(data)


@FAST
@given(st.sampled_from([b"\xff\xd8\xff", PNG_SIG]), st.binary(max_size=2048))
def test_any_bytes_after_a_photo_signature(head, tail):
    strip_or_refuse(head + tail)


def mutate(seed: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, where, value) edits: overwrite, insert or delete one byte."""
    data = bytearray(seed)
    for kind, where, value in edits:
        i = where % (len(data) + 1)
        if kind == 0 and i < len(data):
            data[i] = value
        elif kind == 1:
            data[i:i] = bytes([value])
        elif i < len(data):
            del data[i]
    return bytes(data)


EDITS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=6)


@FAST
@given(st.sampled_from(SEEDS_JPEG), EDITS)
def test_mutated_jpeg(seed, edits):
    out = strip_or_refuse(mutate(seed, edits))
    if out is not None:  # (after SOS, bytes whose marker was damaged are scan data, kept verbatim)
        head = out[:out.index(b"\xff\xda")]
        for gone in (b"NIMO-THUMB", b"JFXX", b"Exif", b"RGBRGB", b"Funabashi", b"MPF\x00"):
            assert gone not in head


@FAST
@given(st.sampled_from(SEEDS_PNG), EDITS)
def test_mutated_png(seed, edits):
    """Most edits break a CRC and are refused; the property holds for every one of them."""
    out = strip_or_refuse(mutate(seed, edits))
    if out is not None:
        for gone in (b"eXIf", b"tEXt", b"tIME", b"iTXt", b"Tanaka"):
            assert gone not in out


chunk_types = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=4, max_size=4)
png_chunks = st.one_of(
    st.sampled_from([chunk(b"eXIf", b"MM\x00\x2aNIMO-PNG"), chunk(b"tEXt", b"Author\x00NIMO-PNG"),
                     chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"NIMO-PNG")),
                     chunk(b"iTXt", b"Title\x00\x00\x00ja\x00\x00NIMO-PNG"), chunk(b"tIME", bytes(7)),
                     chunk(b"gAMA", struct.pack(">I", 45455)), chunk(b"pHYs", struct.pack(">IIB", 1, 1, 0)),
                     chunk(b"sRGB", b"\x00")]),
    st.builds(lambda t, p: chunk(t.encode(), b"NIMO-PNG" + p),
              chunk_types.filter(lambda t: t.encode() not in PNG_KEEP - {b"gAMA", b"pHYs", b"sRGB", b"bKGD"}),
              st.binary(max_size=32)))


@FAST
@given(st.lists(png_chunks, max_size=10), st.lists(png_chunks, max_size=4), st.binary(max_size=64))
def test_any_arrangement_of_png_chunks(before, after, trailing):
    """Valid PNGs with metadata, unknown chunks and fixed-size chunks of the wrong size anywhere
    (and an IEND with a payload): always accepted, and none of it is left."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 14))
    data = PNG_SIG + ihdr + b"".join(before) + idat + b"".join(after) + chunk(b"IEND", b"NIMO-PNG") + trailing
    out = strip_or_refuse(data)
    assert out is not None and b"NIMO-PNG" not in out and idat in out


segments = st.sampled_from([APP0, JFIF_THUMB, jfxx_thumbnail(b"NIMO-THUMB"), EXIF, XMP, COM, ICC, MPF, IPTC,
                            ADOBE, DQT, DHT, DRI, SOF0, b"\xff\x01", seg(0xE5, b"NIMO-THUMB"),
                            seg(0xEF, b"NIMO-THUMB")])


@FAST
@given(st.lists(segments, max_size=12), st.lists(segments, max_size=4), st.binary(max_size=64))
def test_any_order_of_segments(before, between, trailing):
    """Valid files in any arrangement of metadata: always accepted, and nothing of it is left."""
    data = SOI + b"".join(before) + SOS + ENTROPY + b"".join(between) + SOS + b"\x01\xff\x00" + EOI + trailing
    out = strip_or_refuse(data)
    assert out is not None
    for gone in (b"NIMO-THUMB", b"Exif", b"JFXX", b"xmpmeta", b"Photoshop", b"MPF\x00", b"RGBRGB", b"Tanaka"):
        assert gone not in out
