"""The chart PNG writer: the pixels matplotlib would save, in a file any decoder reads, with the resolution kept."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from reports.png import encode, figure_png
from reports.style import DPI, figure, house_style, settle


def _chart():
    with house_style():
        fig, [ax] = figure("Is the won weaker than 1,500 per dollar?", "KRW per USD, ₩")
        ax.plot([0, 1, 2, 3], [1450.0, 1502.5, 1488.0, 1510.0], label="KRW/USD")
        ax.fill_between([0, 1, 2, 3], 1400, [1450.0, 1502.5, 1488.0, 1510.0], alpha=0.3)
        ax.axhline(1500, linestyle="--")
        ax.legend()
        return settle(fig)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of every chunk, each CRC checked: a decoder written from the PNG specification."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        at += 12 + length
    return out


def test_a_chart_has_the_pixels_matplotlib_saves():
    fig = _chart()
    with house_style():  # as reports.drawing.figure_bytes saves: some rc settings are read when drawing
        ours = figure_png(fig, DPI)
        theirs = BytesIO()
        fig.savefig(theirs, format="png", dpi=DPI)
    a, b = (np.asarray(Image.open(BytesIO(x)).convert("RGBA")) for x in (ours, theirs.getvalue()))
    assert a.shape == b.shape and a.shape[1] == round(fig.get_figwidth() * DPI)
    assert np.array_equal(a, b)
    assert Image.open(BytesIO(ours)).info["dpi"] == pytest.approx((DPI, DPI), rel=1e-4)  # pHYs is per metre


def test_the_file_decodes_by_the_specification_to_the_image_given():
    rgba = np.random.default_rng(7).integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    chunks = _chunks(encode(rgba, 144))
    kinds = [k for k, _ in chunks]
    assert kinds == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]  # no text chunk: no timestamp, no version
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour, interlace) == (3, 5, 8, 6, 0)
    assert struct.unpack(">IIB", chunks[1][1]) == (round(144 / 0.0254),) * 2 + (1,)
    rows = np.frombuffer(zlib.decompress(chunks[2][1]), np.uint8).reshape(5, 1 + 3 * 4)
    assert (rows[:, 0] == 0).all()  # filter type None on every row
    assert np.array_equal(rows[:, 1:].reshape(5, 3, 4), rgba)


def test_saving_again_writes_the_same_bytes():
    fig = _chart()
    assert figure_png(fig, DPI) == figure_png(fig, DPI)
    assert fig.dpi == DPI  # the figure is left at its own resolution


def test_an_image_that_is_not_rgba_bytes_is_refused():
    with pytest.raises(ValueError, match="uint8"):
        encode(np.zeros((2, 2, 3), np.uint8), 72)
    with pytest.raises(ValueError, match="uint8"):
        encode(np.zeros((2, 2, 4), np.float64), 72)
