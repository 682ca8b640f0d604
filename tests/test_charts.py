"""Tests of bot/reports/charts.py: the PNG is decoded here independently (chunks, CRCs, IHDR, IDAT) and
the bars are found and measured from the pixels, not from the chart's own layout code."""
from __future__ import annotations

import struct
import zlib

import pytest

from bot.reports import records as reports
from bot.reports.charts import COLOR_NAMES, PALETTE, encode_png, weekly_bars

WHITE = (255, 255, 255)

EIGHT_WEEKS = [
    ("10/6", {"訪問": 5, "電話": 3}),
    ("10/13", {"訪問": 8, "電話": 2, "同行受診": 1, "会議・協議の場": 2, "ピア活動": 1, "その他": 1}),
    ("10/20", {}),
    ("10/27", {"訪問": 12, "電話": 6, "同行受診": 3, "会議・協議の場": 2, "ピア活動": 4, "その他": 2}),
    ("11/3", {"訪問": 1}),
    ("11/10", {"電話": 7}),
    ("11/17", {"訪問": 9, "ピア活動": 3}),
    ("11/24", {"訪問": 4, "会議・協議の場": 5}),
]


# ---------------------------------------------------------------------------------------------
# an independent PNG reader
# ---------------------------------------------------------------------------------------------

class Image:
    def __init__(self, width: int, height: int, rows: list[bytes]):
        self.width, self.height, self.rows = width, height, rows

    def px(self, x: int, y: int) -> tuple[int, int, int]:
        r = self.rows[y]
        return r[3 * x], r[3 * x + 1], r[3 * x + 2]


def read_png(data: bytes) -> Image:
    """Parse and check every chunk; only what weekly_bars promises is accepted (8-bit RGB,
    no interlace, filter type 0 on every scanline)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert len(body) == length, kind
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert chunks[-1][1] == b""
    width, height, depth, ctype, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, ctype, comp, filt, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    rows = []
    for y in range(height):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0, f"row {y} uses filter {line[0]}"
        rows.append(line[1:])
    return Image(width, height, rows)


COLOUR_OF = {rgb: t for t, rgb in PALETTE.items()}


def bars(img: Image) -> list[dict]:
    """Find the bars from the pixels: runs of columns holding palette colours; for each bar, the
    colour runs up its middle column (bottom first) and its height."""
    baseline = max(y for y in range(img.height) if any(img.px(x, y) in COLOUR_OF for x in range(img.width)))
    found, x = [], 0
    while x < img.width:
        if img.px(x, baseline) in COLOUR_OF:
            x0 = x
            while x < img.width and img.px(x, baseline) in COLOUR_OF:
                x += 1
            mid = (x0 + x) // 2
            segments, y = [], baseline
            while y >= 0 and img.px(mid, y) in COLOUR_OF:
                t = COLOUR_OF[img.px(mid, y)]
                if not segments or segments[-1][0] != t:
                    segments.append([t, 0])
                segments[-1][1] += 1
                y -= 1
            found.append({"x0": x0, "x1": x, "mid": mid, "top": y + 1, "height": baseline - y,
                          "segments": [(t, h) for t, h in segments]})
        else:
            x += 1
    return found


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------

def test_palette_matches_report_types_and_is_distinct():
    assert tuple(PALETTE) == reports.TYPES
    assert set(COLOR_NAMES) == set(PALETTE)
    colours = list(PALETTE.values())
    assert len(set(colours)) == 6
    assert WHITE not in colours
    for rgb in colours:
        assert all(isinstance(v, int) and 0 <= v <= 255 for v in rgb) and len(rgb) == 3


def test_valid_png_with_requested_size():
    data = weekly_bars(EIGHT_WEEKS, width=640, height=320)
    img = read_png(data)
    assert (img.width, img.height) == (640, 320)
    assert read_png(weekly_bars(EIGHT_WEEKS)).width == 800  # the defaults are 800×400


def test_encode_png_roundtrip_and_checks():
    rows = b"".join(b"\x00" + bytes([x * 80, y * 80, 7]) * 1 for y in range(2) for x in range(1))
    img = read_png(encode_png(1, 2, rows))
    assert (img.px(0, 0), img.px(0, 1)) == ((0, 0, 7), (0, 80, 7))
    with pytest.raises(ValueError):
        encode_png(2, 2, rows)


def test_eight_weeks_each_bar_has_its_colours_in_order():
    img = read_png(weekly_bars(EIGHT_WEEKS))
    found = bars(img)
    nonzero = [(label, c) for label, c in EIGHT_WEEKS if sum(c.values())]
    assert len(found) == len(nonzero) == 7  # the empty week draws no bar
    for bar, (label, counts) in zip(found, nonzero):
        expected = [t for t in reports.TYPES if counts.get(t)]  # stacking order from the bottom
        assert [t for t, _ in bar["segments"]] == expected, label
    # every bar lies inside the image, left to right, without overlapping
    assert all(0 <= b["x0"] < b["x1"] <= img.width for b in found)
    assert all(a["x1"] < b["x0"] for a, b in zip(found, found[1:]))


def test_pixel_in_a_segment_has_its_palette_colour():
    img = read_png(weekly_bars([("11/17", {"電話": 10}), ("11/24", {"ピア活動": 4, "訪問": 4})]))
    first, second = bars(img)
    assert img.px(first["mid"], first["top"] + first["height"] // 2) == PALETTE["電話"]
    # second bar: 訪問 at the bottom quarter, ピア活動 at the top quarter
    assert img.px(second["mid"], second["top"] + second["height"] * 3 // 4) == PALETTE["訪問"]
    assert img.px(second["mid"], second["top"] + second["height"] // 4) == PALETTE["ピア活動"]


def test_above_the_tallest_bar_is_background_or_grid():
    img = read_png(weekly_bars(EIGHT_WEEKS))
    found = bars(img)
    tallest = max(found, key=lambda b: b["height"])
    for y in range(tallest["top"] - 3, tallest["top"]):  # just above: a gap before its total
        assert img.px(tallest["mid"], y) in (WHITE, (230, 230, 230))
    for b in found:  # nothing is drawn above the tallest bar's top in any bar colour
        for y in range(0, tallest["top"]):
            assert img.px(b["mid"], y) not in COLOUR_OF


def test_taller_counts_make_taller_bars_scaled_to_the_largest_week():
    weeks = [("1/5", {"訪問": 5}), ("1/12", {"訪問": 10}), ("1/19", {"電話": 20}), ("1/26", {"その他": 15})]
    h = [b["height"] for b in bars(read_png(weekly_bars(weeks)))]
    assert h[0] < h[1] < h[3] < h[2]
    assert abs(h[1] - 2 * h[0]) <= 2 and abs(h[2] - 4 * h[0]) <= 2 and abs(h[3] - 3 * h[0]) <= 2
    # the scale follows the largest total: the same week is shorter next to a bigger one
    alone = bars(read_png(weekly_bars([("1/5", {"訪問": 5}), ("1/12", {"訪問": 5})])))[0]["height"]
    assert alone == h[2] > h[0]


def test_segment_heights_follow_counts():
    [bar] = bars(read_png(weekly_bars([("2/2", {"訪問": 30, "電話": 10})])))
    (t1, h1), (t2, h2) = bar["segments"]
    assert (t1, t2) == ("訪問", "電話")
    assert abs(h1 - 3 * h2) <= 3


def test_all_zeros_and_no_weeks_give_empty_charts():
    for weeks in ([("11/17", {}), ("11/24", {"訪問": 0, "電話": 0})], []):
        img = read_png(weekly_bars(weeks, width=300, height=150))
        assert (img.width, img.height) == (300, 150)
        assert not any(img.px(x, y) in COLOUR_OF for y in range(img.height) for x in range(img.width))
        assert img.px(0, 0) == WHITE


def test_unknown_types_count_as_other_and_bad_counts_are_refused():
    [bar] = bars(read_png(weekly_bars([("3/2", {"訪問": 2, "研修": 2})])))
    assert [t for t, _ in bar["segments"]] == ["訪問", "その他"]
    with pytest.raises(ValueError):
        weekly_bars([("3/2", {"訪問": -1})])
    with pytest.raises(TypeError):
        weekly_bars([("3/2", {"訪問": "3"})])


def test_small_and_too_narrow_images():
    img = read_png(weekly_bars(EIGHT_WEEKS, width=120, height=60))  # no room for text: bars only
    assert len(bars(img)) == 7
    with pytest.raises(ValueError):
        weekly_bars([(str(i), {"訪問": 1}) for i in range(100)], width=100, height=100)


def test_labels_are_drawn_in_ink_under_the_bars():
    img = read_png(weekly_bars(EIGHT_WEEKS))
    found = bars(img)
    baseline = found[0]["top"] + found[0]["height"]  # first row under the bars
    ink = lambda y0, y1: {img.px(x, y) for y in range(y0, y1) for x in range(img.width)} - {WHITE, (230, 230, 230)}
    assert (60, 60, 60) in ink(baseline + 1, img.height)  # week labels
    tallest = max(found, key=lambda b: b["height"])
    assert (60, 60, 60) in ink(0, tallest["top"])  # totals above the bars
