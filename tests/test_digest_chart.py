"""The digest chart renders Chinese labels with a real CJK font, never as missing-glyph boxes."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.digest.chart import CJK_FONT_PACKAGE, ChartFontMissing, cjk_font, render_chart
from bot.digest.content import DayVolume, DigestContent, DigestRequest, day_boundaries
from bot.digest.themes import Theme
from storage.digest_queries import Backlog, PeriodCounts

SAMPLE_PATH = Path("/tmp/digest_chart.png")
END = datetime(2024, 5, 14, 1, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sample_content(language: str = "zh") -> DigestContent:
    """Two weeks of made-up volume and five themes, Chinese and mixed-script."""
    request = DigestRequest(
        department="sales",
        language=language,
        timezone="Asia/Shanghai",
        response_hours=24,
        period_start=END - timedelta(hours=24),
        period_end=END,
    )
    boundaries = day_boundaries(END, request.zone)
    days = [
        DayVolume(
            boundaries[i],
            boundaries[i + 1],
            {
                "complaint": 20 + (i * 7) % 13,
                "suggestion": 5 + i % 4,
                "praise": 8 + (i * 3) % 5,
                "question": 4 + i % 3,
                "other": i % 2,
            },
        )
        for i in range(len(boundaries) - 1)
    ]
    themes = [
        Theme("退款", 23, 15, ()),
        Theme("快递", 17, 19, ()),
        Theme("客服态度", 12, 4, ()),
        Theme("App闪退", 9, 0, ()),
        Theme("发票", 6, 6, ()),
    ]
    counts = PeriodCounts(
        new=days[-1].total, resolved=30, new_with_text=days[-1].total, by_kind=days[-1].by_kind
    )
    return DigestContent(
        request=request,
        current=counts,
        previous=counts,
        week=counts,
        backlog=Backlog(open=18, overdue=4),
        days=days,
        themes=themes,
        oldest_open=[],
        strongest=[],
        texts_read=days[-1].total,
    )


MISSING_GLYPH = re.compile(r"Glyph \d+ .* missing from font")


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextmanager
def missing_glyph_reports() -> Iterator[list[str]]:
    """Collect matplotlib's "Glyph ... missing from font" reports, from warnings and logging."""
    reports: list[str] = []
    handler = _Collect(reports)
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            yield reports
    finally:
        logger.removeHandler(handler)
    reports[:] = [m for m in [*reports, *(str(w.message) for w in seen)] if MISSING_GLYPH.search(m)]


def test_missing_glyphs_are_detected_when_the_font_has_no_chinese() -> None:
    # The control for the test below: DejaVu Sans has no Chinese, and the check sees it.
    figure = Figure()
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, "退款", family="DejaVu Sans")

    with missing_glyph_reports() as reports:
        figure.canvas.draw()

    assert reports == [
        "Glyph 36864 (\\N{CJK UNIFIED IDEOGRAPH-9000}) missing from font(s) DejaVu Sans.",
        "Glyph 27454 (\\N{CJK UNIFIED IDEOGRAPH-6B3E}) missing from font(s) DejaVu Sans.",
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_chart_renders_chinese_labels_without_missing_glyphs(language: str) -> None:
    with missing_glyph_reports() as reports:
        png = render_chart(sample_content(language))

    assert reports == []
    assert png.startswith(PNG_SIGNATURE)
    if language == "zh":
        # A sample to look at: docs/digest.md describes what it should show.
        SAMPLE_PATH.write_bytes(png)


def test_chart_uses_an_installed_cjk_font_file() -> None:
    family = cjk_font()

    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(path).name.lower() in {"wqy-microhei.ttc", "wqy-zenhei.ttc"} or "cjk" in path.lower()


def test_without_a_cjk_font_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    cjk_font.cache_clear()
    try:
        with pytest.raises(ChartFontMissing, match=CJK_FONT_PACKAGE):
            render_chart(sample_content())
    finally:
        monkeypatch.undo()
        cjk_font.cache_clear()
