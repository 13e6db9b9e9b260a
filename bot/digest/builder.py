"""Building one digest: its content, its HTML messages and its chart."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.digest.chart import ChartFontMissing, render_chart
from bot.digest.content import DigestContent, DigestRequest, collect_digest
from bot.digest.render import render_caption, render_digest
from storage.digest_queries import DigestQueries

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Digest:
    """A digest ready to send: HTML messages, then the chart photo (None on a quiet day)."""

    content: DigestContent
    messages: list[str]
    chart: bytes | None
    caption: str
    chart_error: str | None = None


def build_digest(queries: DigestQueries, request: DigestRequest) -> Digest:
    """Query, analyse and render one digest; blocking, so run it in a worker thread."""
    content = collect_digest(queries, request)
    chart: bytes | None = None
    error: str | None = None
    if not content.quiet:
        try:
            chart = render_chart(content)
        except ChartFontMissing as missing:
            # The numbers matter more than the picture: send the text without the chart.
            _LOGGER.error("digest chart for %s left out: %s", request.department, missing)
            error = str(missing)
    return Digest(
        content=content,
        messages=render_digest(content),
        chart=chart,
        caption=render_caption(content),
        chart_error=error,
    )
