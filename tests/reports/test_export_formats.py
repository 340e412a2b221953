"""How each format is saved: PDF text in Type 3 fonts (no per-file TrueType subsetting), files byte-reproducible."""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from reports.drawing import figure_bytes


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [1.0, 3.0, 2.0], label="KRW per USD ₩")
    ax.set_title("Policy rates")
    ax.legend()
    return fig


def test_pdf_text_is_embedded_as_type3_fonts_not_a_truetype_subset():
    pdf = figure_bytes(_figure(), "pdf")
    assert pdf.startswith(b"%PDF-")
    # Font dictionaries are written uncompressed: Type 3 fonts present, no embedded TrueType program (FontFile2),
    # which is what Type 42 embedding (fontTools subsetting per file) would write.
    assert re.search(rb"/Subtype\s*/Type3", pdf)
    assert b"/FontFile2" not in pdf and b"/CIDFontType2" not in pdf


def test_every_format_is_byte_identical_when_saved_again_from_the_same_figure():
    fig = _figure()
    for fmt in ("png", "svg", "pdf"):
        assert figure_bytes(fig, fmt) == figure_bytes(fig, fmt), fmt


def test_a_settled_figure_is_drawn_once_per_save(monkeypatch):
    """settle() leaves no layout engine: savefig then draws once, not once without output and once for real."""
    from matplotlib.figure import Figure

    from reports.drawing import figure_bytes
    from reports.style import figure, house_style, settle

    with house_style():
        fig, [ax] = figure("A question", "a subtitle")
        ax.plot([0, 1, 2], [1, 3, 2], label="x")
        settle(fig)
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or original(self, renderer))
    for fmt in ("png", "svg", "pdf"):
        figure_bytes(fig, fmt)
    assert len(draws) == 3
