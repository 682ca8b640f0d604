"""Photos attached to field reports: accept JPEG and PNG only, remove location and identity
metadata, and store them under a content-derived name.

A phone photo can say where it was taken (Exif GPS, XMP, IPTC), on which device and by whom, and
a photo taken at a client's home therefore says where a person with mental illness lives.  Nothing
is stored before :func:`strip_metadata` has removed every part of the file that is not needed to
show the picture.  The parsers here walk the file structure only; they never decode pixels.

JPEG: the marker segments are walked from SOI to EOI.  Kept: APP0 JFIF, APP14 Adobe (needed to decode some CMYK/YCCK files), and the segments a decoder needs (DQT, DHT,
SOFn, DRI, SOS, DNL, DHP, EXP, DAC, JPEG-LS SOF55/LSE), each checked to have the exact shape the
standard gives it (as libjpeg checks it), so no kept table can carry anything else.  The JFIF and
Adobe segments are rewritten to their fixed fields only: a JFIF segment may carry an uncompressed
thumbnail after them, and bytes after either are read by no decoder.  Dropped: APP0 JFXX (an extension whose thumbnail can be
a whole JPEG with its own Exif and GPS) and every other APP0 payload, APP1 (Exif, XMP: where GPS
lives), all other APPn including APP2 ICC_PROFILE (a colour profile is a file of its own, with
free-text tags such as its description and copyright that can say anything) and APP2 MPF (a second
image), APP13 Photoshop/IPTC (captions,
names, places), COM and reserved markers.  Entropy-coded data after each SOS is copied byte
for byte (stuffed ``FF 00`` and RSTn included), and the walk goes on after it, so a comment or APP
segment between the scans of a progressive JPEG is dropped too.  Anything after EOI is dropped:
phones append further images there (MPF previews and depth maps with their own Exif, Motion Photo
videos), each of which can carry GPS.

  Known, accepted trade-off: dropping Exif also drops the Orientation tag, so a phone photo that
  was stored sideways with "rotate when shown" in Exif will now be shown sideways.  Turning the
  pixels would need a JPEG decoder and re-encoder, which this module deliberately does not have.

PNG: the signature and every chunk's CRC are checked.  Kept: the critical chunks (IHDR, PLTE,
IDAT, IEND) and the rendering ancillaries tRNS, gAMA, cHRM, sRGB, sBIT, pHYs, bKGD, the
fixed-size ones only at a size the specification allows; IEND is written empty.  Dropped:
everything else (iCCP, a compressed ICC profile that can carry text as APP2's can; eXIf, tEXt,
zTXt, iTXt, tIME, APNG frames, unknown chunks) and anything after IEND.  Without its profile a
picture is shown in sRGB, which is what phones take photos in.

Pixels: a file's header says how large the picture is, and a 30000×30000 PNG is a few kilobytes
that would take gigabytes to show.  Width and height are read from the JPEG frame header (SOFn,
DNL) and the PNG IHDR, never by decoding, and a picture over ``MAX_PIXELS`` is refused.  The
console re-checks a stored file with :func:`recheck` before it sends it, so nothing is served
that these rules would not store today.

Every refusal is a :class:`PhotoError`, whose text is a short Japanese sentence for the user.  The
walk is linear in the file size (fill bytes and entropy-coded data are scanned by the regex engine,
not byte by byte in Python), and a file made of more than ``MAX_PARTS`` segments or chunks, which no
camera or encoder writes, is refused as broken, so a 10 MB file of tiny segments cannot hold a
worker for seconds.

Standard library only.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zlib
from pathlib import Path

from bot.messages import PHOTO_TOO_MANY_PIXELS

__all__ = ["MAX_BYTES", "MAX_PIXELS", "PhotoError", "kind", "recheck", "strip_metadata", "store"]

MAX_BYTES = 10 * 1024 * 1024  # a photo larger than this is refused
MAX_PIXELS = 40_000_000  # width × height from the header; a phone's largest photos are about 50 MP at
# full resolution but LINE and Slack hand Nimo reduced copies (LINE: at most 4096 px on a side)
MAX_PARTS = 16_384  # JPEG segments (outside entropy-coded data) or PNG chunks; real files have far fewer

TOO_LARGE = "写真が大きすぎます（最大10MB）。"
TOO_MANY_PIXELS = PHOTO_TOO_MANY_PIXELS
UNSUPPORTED = "この形式の画像は受け付けていません（JPEG・PNG のみ）。"
CORRUPT = "画像が壊れているようです。"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_EXTENSIONS = {"jpeg": "jpg", "png": "png"}

_PNG_KEEP = frozenset({
    b"IHDR", b"PLTE", b"IDAT", b"IEND",
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD",
})
# The sizes the PNG specification allows; a kept ancillary chunk of another size is dropped (as a
# decoder ignores it), so no kept chunk can carry more than its few fixed bytes.
_PNG_SIZES = {
    b"gAMA": (4,), b"cHRM": (32,), b"sRGB": (1,), b"pHYs": (9,), b"sBIT": (1, 2, 3, 4), b"bKGD": (1, 2, 6),
    b"tRNS": tuple(range(257)),
}
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"

# JPEG markers (the byte after 0xFF)
_TEM = 0x01
_RST0, _RST7 = 0xD0, 0xD7
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP14, _APP15 = 0xE0, 0xEE, 0xEF
_COM = 0xFE
# Segments a decoder needs: SOF0-3/5-7/9-11/13-15, DHT, DAC, SOS, DQT, DNL, DRI, DHP, EXP,
# and JPEG-LS SOF55/LSE.  Reserved markers (JPG, JPGn, RES) are never needed and are dropped.
_JPEG_KEEP = frozenset(
    {m for m in range(0xC0, 0xD0) if m != 0xC8} | {_SOS, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xF7, 0xF8})
# Frame headers (SOFn, DHP, JPEG-LS SOF55): they give the picture's height and width.
_FRAME = frozenset({m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)} | {0xDE, 0xF7})
_DNL = 0xDC

_FILL = re.compile(rb"\xff+")
# The last 0xFF before a marker inside entropy-coded data: what follows it is neither a stuffed
# 0x00, nor RSTn, nor another 0xFF (a fill byte).  One byte class after a literal: no backtracking.
_SCAN_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_JFIF_FIXED = 14   # "JFIF\0", version (2), units (1), X and Y density (2 + 2), thumbnail size (1 + 1)
_ADOBE_FIXED = 12  # "Adobe", version (2), flags0 (2), flags1 (2), colour transform (1)

_NAME_HINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class PhotoError(ValueError):
    """A photo that cannot be accepted.  ``str(e)`` is a short Japanese sentence for the user, e.g.
    「写真が大きすぎます（最大10MB）。」; ``e.detail`` says what exactly was wrong, for logs."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def _corrupt(detail: str) -> PhotoError:
    return PhotoError(CORRUPT, detail)


def _as_bytes(data: bytes) -> bytes:
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"photo data must be bytes, not {type(data).__name__}")
    return data


def kind(data: bytes) -> str:
    """``"jpeg"`` or ``"png"``, judged by the magic bytes; :class:`PhotoError` for anything else."""
    data = _as_bytes(data)
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    raise PhotoError(UNSUPPORTED, f"unrecognised magic bytes {data[:8].hex() or '(empty)'}")


def strip_metadata(data: bytes) -> bytes:
    """The same image with no metadata that can carry a location or an identity (see the module
    docstring for what is kept).  Refuses, with :class:`PhotoError`, a photo over ``MAX_BYTES``
    (checked before any parsing), a format other than JPEG/PNG, and a truncated or broken file."""
    data = _as_bytes(data)
    if len(data) > MAX_BYTES:
        raise PhotoError(TOO_LARGE, f"{len(data)} bytes > {MAX_BYTES}")
    if kind(data) == "jpeg":
        return _strip_jpeg(data)
    return _strip_png(data)


def recheck(data: bytes) -> bytes:
    """A stored photo as it may be sent: stripped again under today's rules (a file stored before a
    rule was added, e.g. with a colour profile, loses what the rule removes) and refused with
    :class:`PhotoError` when it breaks a cap (size, pixels) or is not a photo at all."""
    return strip_metadata(data)


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise PhotoError(TOO_MANY_PIXELS, f"{width}x{height} pixels > {MAX_PIXELS}")


def store(data: bytes, directory: Path, *, name_hint: str) -> Path:
    """Strip the photo, check its size, and write it atomically (temp file + ``os.replace``) as
    ``<directory>/<name_hint>-<sha256[:12]>.<jpg|png>``, the hash being that of the stripped bytes.
    The directory is created with mode 0o700 if missing; the file is written with mode 0o600.
    Storing the same photo again returns the same path without rewriting it.

    ``name_hint`` is chosen by code (e.g. a report id), not by the user: it must be 1–64 characters
    of ``A-Z a-z 0-9 _ . -`` starting with a letter or digit, else :class:`ValueError`.
    """
    if not isinstance(name_hint, str) or not _NAME_HINT.fullmatch(name_hint):
        raise ValueError(f"unsafe name_hint for a photo file: {name_hint!r}")
    clean = strip_metadata(data)  # refuses oversize input before parsing it
    if len(clean) > MAX_BYTES:  # cannot happen (stripping never grows a file); kept as a guard
        raise PhotoError(TOO_LARGE, f"{len(clean)} bytes after stripping")
    digest = hashlib.sha256(clean).hexdigest()[:12]
    directory = Path(directory)
    target = directory / f"{name_hint}-{digest}.{_EXTENSIONS[kind(clean)]}"

    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not directory.is_dir():
            raise
    else:
        os.chmod(directory, 0o700)  # mkdir's mode is reduced by the umask

    if target.is_file():
        return target  # same stripped bytes -> same name: already stored

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name_hint}-", suffix=".tmp")  # mode 0o600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(clean)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- JPEG ----------------------------------------------------------------------------------------

def _kept_payload(marker: int, payload: bytes) -> bytes | None:
    """What is written for a segment: its payload (possibly cut to its fixed fields), or ``None``."""
    if marker == _APP0:  # JFIF only, without its thumbnail; JFXX (thumbnail extension) and others go
        if not payload.startswith(b"JFIF\x00") or len(payload) < _JFIF_FIXED:
            return None
        return payload[:_JFIF_FIXED - 2] + b"\x00\x00"
    if marker == _APP14:
        return payload[:_ADOBE_FIXED] if payload.startswith(b"Adobe") and len(payload) >= _ADOBE_FIXED else None
    if _APP0 < marker <= _APP15 or marker == _COM:
        return None  # APP1 Exif/XMP, APP2 ICC/MPF/FlashPix, APP13 Photoshop/IPTC, comments, ...
    if marker not in _JPEG_KEEP:
        return None  # reserved and unknown markers are dropped too
    if not _valid_decoder_segment(marker, payload):
        raise _corrupt(f"segment {marker:#04x} is not a valid table or header")
    return payload


def _valid_decoder_segment(marker: int, p: bytes) -> bool:
    """Whether a segment a decoder needs has the exact shape the standard gives it (libjpeg refuses
    the same ones), so that no kept table can carry anything else, e.g. a metadata segment whose
    marker byte was damaged into DQT's."""
    n = len(p)
    if marker == 0xDB:  # DQT: (precision/table byte, 64 or 128 bytes)+
        i = 0
        while i < n:
            if p[i] >> 4 > 1 or p[i] & 0x0F > 3:
                return False
            i += 1 + (64 << (p[i] >> 4))
        return i == n and n > 0
    if marker == 0xC4:  # DHT: (class/table byte, 16 counts, the symbols)+
        i = 0
        while i < n:
            if p[i] >> 4 > 1 or p[i] & 0x0F > 3 or i + 17 > n:
                return False
            count = sum(p[i + 1:i + 17])
            if count > 256:
                return False
            i += 17 + count
        return i == n and n > 0
    if marker == _SOS:
        return n >= 1 and 1 <= p[0] <= 4 and n == 4 + 2 * p[0]
    if marker in (0xDD, 0xDC):  # DRI, DNL
        return n == 2
    if marker == 0xDF:  # EXP
        return n == 1
    if marker == 0xCC:  # DAC
        return n > 0 and n % 2 == 0
    if marker == 0xF8:  # JPEG-LS LSE: an id from 1 to 4, then its parameters
        return n > 1 and 1 <= p[0] <= 4
    # SOFn, DHP and JPEG-LS SOF55: precision, height, width, components, 3 bytes per component
    return n >= 6 and p[5] >= 1 and n == 6 + 3 * p[5]


def _scan_end(data: bytes, pos: int) -> int:
    """Index of the 0xFF that starts the first marker (fill bytes included) after the entropy-coded
    data at ``pos``: ``FF 00`` (a stuffed 0xFF) and ``FF D0``–``FF D7`` (RSTn) belong to the data."""
    m = _SCAN_MARKER.search(data, pos)
    if m is None:
        if data.endswith(b"\xff") and len(data) > pos:
            raise _corrupt("file ends in fill bytes")
        raise _corrupt("entropy-coded data runs to the end of the file (no EOI)")
    i = m.start()
    if i == pos or data[i - 1] != 0xFF:
        return i
    # 0xFF bytes just before it are fill bytes of the same marker (a data 0xFF is always stuffed)
    return pos + len(data[pos:i].rstrip(b"\xff"))


def _strip_jpeg(data: bytes) -> bytes:
    n = len(data)
    out = [b"\xff\xd8"]
    pos = 2
    seen_sos = False
    width = 0  # of the last frame header, for a height given later by DNL
    for _ in range(MAX_PARTS):
        if pos >= n:
            raise _corrupt("file ends before EOI")
        if data[pos] != 0xFF:
            raise _corrupt(f"expected a marker at offset {pos}, found {data[pos]:#04x}")
        pos = _FILL.match(data, pos).end()  # one 0xFF plus any fill bytes
        if pos >= n:
            raise _corrupt("file ends in fill bytes")
        marker = data[pos]
        pos += 1
        if marker == 0x00:
            raise _corrupt(f"stuffed byte outside entropy-coded data at offset {pos - 2}")
        if marker == _EOI:
            if not seen_sos:
                raise _corrupt("EOI before any scan")
            out.append(b"\xff\xd9")
            return b"".join(out)  # anything after EOI is dropped on purpose
        if marker == _SOI:
            raise _corrupt(f"SOI inside the image at offset {pos - 2}")
        if marker == _TEM or _RST0 <= marker <= _RST7:
            out.append(bytes((0xFF, marker)))  # standalone: no length
            continue
        if pos + 2 > n:
            raise _corrupt(f"segment {marker:#04x} truncated in its length")
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2:
            raise _corrupt(f"segment {marker:#04x} has impossible length {length}")
        end = pos + length
        if end > n:
            raise _corrupt(f"segment {marker:#04x} truncated ({length} bytes declared)")
        payload = _kept_payload(marker, data[pos + 2:end])
        if marker in _FRAME:  # validated by _kept_payload: precision, height (2), width (2), ...
            width = int.from_bytes(payload[3:5], "big")
            if width == 0:
                raise _corrupt("frame header with width 0")
            _check_pixels(width, int.from_bytes(payload[1:3], "big"))  # height 0: DNL gives it
        elif marker == _DNL:
            _check_pixels(width, int.from_bytes(payload, "big"))
        if payload is not None:
            out.append(bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big"))
            out.append(payload)
        pos = end
        if marker == _SOS:
            seen_sos = True
            scan_end = _scan_end(data, pos)
            out.append(data[pos:scan_end])  # verbatim, stuffing and RSTn included
            pos = scan_end
    raise _corrupt(f"more than {MAX_PARTS} segments")


# --- PNG -----------------------------------------------------------------------------------------

def _strip_png(data: bytes) -> bytes:
    n = len(data)
    view = memoryview(data)
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    first = True
    seen_idat = False
    for _ in range(MAX_PARTS):
        if pos + 8 > n:
            raise _corrupt("file ends before IEND")
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        if length > 0x7FFFFFFF:
            raise _corrupt(f"chunk length {length} out of range at offset {pos}")
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in ctype):
            raise _corrupt(f"invalid chunk type {ctype!r} at offset {pos}")
        end = pos + 12 + length
        if end > n:
            raise _corrupt(f"chunk {ctype.decode('ascii')} truncated")
        crc = int.from_bytes(data[end - 4:end], "big")
        if zlib.crc32(view[pos + 4:end - 4]) != crc:
            raise _corrupt(f"bad CRC in chunk {ctype.decode('ascii')} at offset {pos}")
        if first != (ctype == b"IHDR") or (first and length != 13):
            raise _corrupt("the first chunk, and only it, must be a valid IHDR")
        if first:  # width and height, before any pixel data is looked at
            width, height = int.from_bytes(data[pos + 8:pos + 12], "big"), int.from_bytes(data[pos + 12:pos + 16], "big")
            if not width or not height:
                raise _corrupt(f"IHDR of {width}x{height} pixels")
            _check_pixels(width, height)
        first = False
        if ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"PLTE" and (length % 3 or not 3 <= length <= 768):
            raise _corrupt(f"PLTE of {length} bytes")
        elif ctype == b"IEND":
            if not seen_idat:
                raise _corrupt("no IDAT before IEND")
            out.append(_IEND)  # written empty: an IEND's payload is read by no decoder
            return b"".join(out)  # anything after IEND is dropped on purpose
        if ctype in _PNG_KEEP and length in _PNG_SIZES.get(ctype, (length,)):
            out.append(data[pos:end])
        pos = end
    raise _corrupt(f"more than {MAX_PARTS} chunks")
