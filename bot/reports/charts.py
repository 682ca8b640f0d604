"""Small PNG charts without a plotting library: a pure-Python PNG writer and a stacked bar chart.

Only zlib and struct are used (no matplotlib, no Pillow).  Images are 8-bit RGB (colour type 2),
every scanline uses filter type 0, and each chunk carries its CRC-32.

The only text in the images is digits, "/" and "-" drawn with a tiny built-in 3×5 bitmap font
(there is no font for Japanese): the week labels under the bars and each week's total above its
bar.  The report types are named in the message that carries the image, using ``PALETTE`` /
``COLOR_NAMES`` for the legend.
"""
from __future__ import annotations

import struct
import zlib

from bot.reports.kinds import TYPES

__all__ = ["PALETTE", "COLOR_NAMES", "TYPE_ORDER", "weekly_bars", "encode_png"]

RGB = tuple[int, int, int]

# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), in stacking
# order from the bottom of the bar: the order of bot.reports.kinds.TYPES (tests/test_charts.py checks).
PALETTE: dict[str, RGB] = {
    "訪問": (0, 114, 178),            # blue
    "電話": (230, 159, 0),            # orange
    "同行受診": (0, 158, 115),        # bluish green
    "会議・協議の場": (204, 121, 167),  # reddish purple
    "ピア活動": (86, 180, 233),       # sky blue
    "その他": (213, 94, 0),           # vermillion
}
COLOR_NAMES: dict[str, str] = {  # for a legend in the message text
    "訪問": "青", "電話": "橙", "同行受診": "緑", "会議・協議の場": "赤紫", "ピア活動": "水色", "その他": "朱",
}
TYPE_ORDER: tuple[str, ...] = TYPES
OTHER = "その他"

WHITE: RGB = (255, 255, 255)
GRID: RGB = (230, 230, 230)
AXIS: RGB = (170, 170, 170)
INK: RGB = (60, 60, 60)

# 3×5 glyphs, one string of 3 bits per row.
_FONT: dict[str, tuple[str, ...]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "/": ("001", "001", "010", "100", "100"),
    "-": ("000", "000", "111", "000", "000"),
    " ": ("000", "000", "000", "000", "000"),
}
_GLYPH_W, _GLYPH_H, _GAP = 3, 5, 1  # gap between glyphs, in font pixels


# ---------------------------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(width: int, height: int, scanlines: bytes) -> bytes:
    """PNG bytes of an 8-bit RGB image.  ``scanlines`` is ``height`` rows of ``1 + 3*width``
    bytes, each starting with its filter-type byte (0 = none)."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    if len(scanlines) != height * (1 + 3 * width):
        raise ValueError("scanlines has the wrong length for the image size")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # depth 8, RGB, deflate, filter 0, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(bytes(scanlines), 6)) + _chunk(b"IEND", b""))


class _Canvas:
    """An RGB raster stored directly as PNG scanlines (filter byte 0 at the start of each row)."""

    def __init__(self, width: int, height: int, background: RGB = WHITE):
        self.width, self.height = width, height
        self.stride = 1 + 3 * width
        row = b"\x00" + bytes(background) * width
        self.buf = bytearray(row * height)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        run = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = y * self.stride + 1 + 3 * x0
            self.buf[start:start + len(run)] = run

    def text(self, x: int, y: int, s: str, scale: int, color: RGB) -> None:
        """Draw ``s`` with its top-left corner at (x, y); characters without a glyph are blank."""
        for ch in s:
            glyph = _FONT.get(ch, _FONT[" "])
            for gy, bits in enumerate(glyph):
                for gx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + gx * scale, y + gy * scale,
                                  x + (gx + 1) * scale, y + (gy + 1) * scale, color)
            x += (_GLYPH_W + _GAP) * scale

    def png(self) -> bytes:
        return encode_png(self.width, self.height, bytes(self.buf))


def _text_width(s: str, scale: int) -> int:
    return (len(s) * (_GLYPH_W + _GAP) - _GAP) * scale if s else 0


# ---------------------------------------------------------------------------------------------
# The weekly chart
# ---------------------------------------------------------------------------------------------

def _counts(counts: dict[str, int]) -> list[int]:
    """Counts in stacking order; types outside the palette are added to その他."""
    out = dict.fromkeys(TYPE_ORDER, 0)
    for rtype, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"count for {rtype!r} must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"count for {rtype!r} is negative: {n}")
        out[rtype if rtype in out else OTHER] += n
    return list(out.values())


def weekly_bars(weeks: list[tuple[str, dict[str, int]]], *, width: int = 800, height: int = 400) -> bytes:
    """A stacked bar chart PNG: one bar per week (oldest left), stacked from the bottom by report
    type in ``PALETTE`` order and colours, on white with a light grid.  Bar heights are scaled to
    the largest week total (the tallest bar reaches the top grid line); a week with 0 reports
    draws no bar, and all zeros give a chart with no bars.

    ``weeks`` items are ``(label, {type: count})`` with labels like ``"11/17"``.  The labels are
    drawn under the bars and each week's total above its bar, with a 3×5 bitmap font (digits,
    "/", "-"; other characters are left blank) scaled ×3, or smaller when a week's slot is too
    narrow, or left out when even ×1 does not fit.  Types outside ``PALETTE`` count as その他.

    Raises ValueError when the image is too small for the bars (each week needs at least 2
    pixels of width)."""
    if width < 16 or height < 16:
        raise ValueError("the chart must be at least 16×16 pixels")
    columns = [(str(label), _counts(counts)) for label, counts in weeks]
    n = len(columns)
    pad = 12
    plot_x0, plot_x1 = pad, width - pad
    slot = (plot_x1 - plot_x0) / n if n else float(plot_x1 - plot_x0)
    if slot < 2:
        raise ValueError(f"{n} weeks do not fit in {width} pixels")
    totals = [sum(c) for _, c in columns]
    max_total = max(totals, default=0)

    # text scale: the largest of 3, 2, 1 at which every label fits its slot and the plot keeps
    # at least half the height; 0 = no text
    widest = max([len(label) for label, _ in columns] + [len(str(t)) for t in totals], default=0)
    scale = 0
    for s in (3, 2, 1):
        if _text_width("0" * widest, s) <= slot - 2 and height - 2 * pad - 2 * (_GLYPH_H * s + 6) >= height // 2:
            scale = s
            break
    band = _GLYPH_H * scale + 6 if scale else 0  # room for a line of text plus a gap
    top = pad + band                 # y of the top grid line = top of the tallest bar
    bottom = height - pad - band     # y of the baseline; bars occupy the rows above it
    plot_h = bottom - top
    if plot_h < 4:
        raise ValueError(f"the chart is too low ({height} pixels)")

    c = _Canvas(width, height)
    for k in range(1, 5):  # grid at 1/4 .. 4/4 of the tallest bar
        y = bottom - round(plot_h * k / 4)
        c.rect(plot_x0, y, plot_x1, y + 1, GRID)
    c.rect(plot_x0, bottom, plot_x1, bottom + 1, AXIS)

    bar_w = max(1, round(slot * 0.6))
    colours = list(PALETTE.values())
    for i, ((label, counts), total) in enumerate(zip(columns, totals)):
        x0 = plot_x0 + round(i * slot + (slot - bar_w) / 2)
        cx = x0 + bar_w // 2
        bar_top = bottom
        if total and max_total:
            cum, y_prev = 0, bottom
            for count, colour in zip(counts, colours):
                if not count:
                    continue
                cum += count
                y = bottom - round(cum * plot_h / max_total)
                c.rect(x0, y, x0 + bar_w, y_prev, colour)
                y_prev = y
            bar_top = y_prev
        if scale:
            lw = _text_width(label, scale)
            c.text(cx - lw // 2, bottom + 5, label, scale, INK)
            t = str(total)
            tw = _text_width(t, scale)
            c.text(cx - tw // 2, bar_top - 4 - _GLYPH_H * scale, t, scale, INK)
    return c.png()
