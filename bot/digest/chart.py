"""The digest chart: daily volume by kind (stacked bars) and top themes (horizontal bars)."""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes

# The Agg canvas is used directly rather than through pyplot: no display is needed on a
# server, and the process-wide backend other code may have chosen stays untouched.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.digest import texts
from bot.digest.content import DigestContent
from bot.digest.render import chart_days_label, digest_label, zone_time
from bot.digest.themes import shorten
from storage.digest_queries import KINDS

# The Debian package the setup script installs; named in the error when no font is found.
CJK_FONT_PACKAGE = "fonts-wqy-microhei"
# Font files that cover Chinese, best first, matched against the file name.
CJK_FONT_FILES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "notosanscjk-regular.ttc",
    "notosanscjksc-regular.otf",
    "sourcehansanssc-regular.otf",
    "droidsansfallbackfull.ttf",
    "droidsansfallback.ttf",
)
KIND_COLOURS = {
    "complaint": "#d62728",
    "suggestion": "#1f77b4",
    "praise": "#2ca02c",
    "question": "#ff7f0e",
    "other": "#9e9e9e",
}
# Longer keywords would not fit the left margin; jieba words rarely come close.
KEYWORD_CHARS = 8
DPI = 100
SIZE_INCHES = (10.0, 8.0)

# matplotlib's font and text caches are not thread-safe, and charts are drawn in worker
# threads (asyncio.to_thread), so one chart is drawn at a time.
_draw_lock = threading.Lock()


class ChartFontMissing(RuntimeError):
    """No font with Chinese glyphs is installed, so Chinese labels would be empty boxes."""


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the first installed CJK font with matplotlib and return its family name."""
    installed = {Path(path).name.lower(): path for path in font_manager.findSystemFonts()}
    for name in CJK_FONT_FILES:
        path = installed.get(name)
        if path is not None:
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    raise ChartFontMissing(
        "no font with Chinese glyphs found (looked for "
        f"{', '.join(CJK_FONT_FILES)}); install one, e.g. `apt-get install -y {CJK_FONT_PACKAGE}`"
    )


def render_chart(content: DigestContent) -> bytes:
    """The chart as PNG bytes; ChartFontMissing if no CJK font is installed."""
    family = cjk_font()
    request = content.request
    language = request.language
    with _draw_lock, matplotlib.rc_context(
        # DejaVu Sans after the CJK font supplies glyphs the CJK font lacks (e.g. "−").
        {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}
    ):
        figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        # Fixed margins rather than constrained layout, which measures every label twice
        # and doubles the drawing time; theme keywords are short words, so they fit.
        figure.subplots_adjust(left=0.11, right=0.97, top=0.9, bottom=0.06, hspace=0.4)
        FigureCanvasAgg(figure)
        daily: Axes
        themes: Axes
        daily, themes = figure.subplots(2, 1, height_ratios=(3, 2))
        labels = [day.end.astimezone(request.zone).strftime("%m-%d") for day in content.days]
        # Numeric positions with text tick labels: "05-14" passed as x values would make
        # matplotlib guess whether they are dates.
        positions = list(range(len(labels)))
        bottoms = [0] * len(content.days)
        kind_names = texts.KIND_NAMES[language]
        for kind in KINDS:
            values = [day.by_kind[kind] for day in content.days]
            if kind == "other" and not any(values):
                continue
            daily.bar(
                positions, values, bottom=bottoms, color=KIND_COLOURS[kind], label=kind_names[kind]
            )
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        at = zone_time(request.period_end, request.zone)
        daily.set_title(chart_days_label(language, at))
        daily.set_xticks(positions, labels, rotation=45)
        daily.legend(loc="upper left", ncols=5, fontsize="small")
        daily.set_ylim(0, max([*bottoms, 1]) * 1.25)
        # Counts of messages: a tick at 2.5 messages would make no sense on a quiet week.
        daily.yaxis.set_major_locator(MaxNLocator(integer=True))
        daily.grid(axis="y", alpha=0.3)
        _draw_themes(themes, content)
        figure.suptitle(digest_label(content), fontsize="large")
        output = io.BytesIO()
        figure.savefig(output, format="png")
    return output.getvalue()


def _draw_themes(axes: Axes, content: DigestContent) -> None:
    language = content.request.language
    axes.set_title(texts.text(language, "chart_themes"))
    if not content.themes:
        axes.text(0.5, 0.5, texts.text(language, "chart_no_themes"), ha="center", va="center")
        axes.set_axis_off()
        return
    # Top theme at the top: barh draws the first bar at the bottom.
    ordered = list(reversed(content.themes))
    positions = list(range(len(ordered)))
    height = 0.38
    axes.barh(
        [p - height / 2 for p in positions],
        [theme.previous for theme in ordered],
        height=height,
        color="#c7c7c7",
        label=texts.text(language, "chart_previous"),
    )
    bars = axes.barh(
        [p + height / 2 for p in positions],
        [theme.count for theme in ordered],
        height=height,
        color="#1f77b4",
        label=texts.text(language, "chart_current"),
    )
    axes.bar_label(bars, padding=3, fontsize="small")
    axes.set_yticks(positions, [shorten(theme.keyword, KEYWORD_CHARS) for theme in ordered])
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(axis="x", alpha=0.3)
    axes.set_xlim(0, max(max(t.count, t.previous) for t in ordered) * 1.15 + 1)
