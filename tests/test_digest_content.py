"""Digest content on known data, on SQLite and PostgreSQL: counts, trends, themes, masking."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.digest.builder import build_digest
from bot.digest.content import DigestRequest, collect_digest, day_boundaries
from bot.digest.render import plain_text, render_digest
from storage.db import make_engine, upgrade
from storage.digest_queries import DigestQueries
from storage.records import FeedbackRecord
from storage.repository import Repository

# Tuesday 14 May 2024, 09:00 in Shanghai: the digest's period end.
END = datetime(2024, 5, 14, 1, 0, tzinfo=UTC)
START = END - timedelta(hours=24)
PHONE = "13812345678"
EMAIL = "zhang.san@example.com"


class Clock:
    """A settable clock for the repository, so rows get the times a test chooses."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# Update and message ids must be unique per database: the repository treats a repeated
# update id as Telegram redelivering the same message.
_MESSAGE_IDS = itertools.count(1)


@dataclass
class Feedback:
    """Writes feedback the way the bot does (record, classify, resolve, move) at chosen times."""

    repository: Repository
    clock: Clock

    def add(
        self,
        queue: str,
        kind: str,
        text: str | None,
        at: datetime,
        *,
        resolved_at: datetime | None = None,
        language: str = "zh",
    ) -> FeedbackRecord:
        """Store one classified item received at `at`, resolved at `resolved_at` if given."""
        number = next(_MESSAGE_IDS)
        self.clock.now = at
        item, _ = self.repository.record_feedback(
            telegram_user_id=5000 + number % 7,
            chat_id=5000 + number % 7,
            message_id=number,
            update_id=number,
            text=text,
            language=language,
            received_at=at,
        )
        item = self.repository.set_classification(
            item.id,
            predicted_label=queue,
            confidence=0.9,
            kind=kind,
            secondary=[],
            model_version="test",
            routed_queue=queue,
            status="new",
        )
        if resolved_at is not None:
            self.clock.now = resolved_at
            item = self.repository.set_status(item.id, "resolved", "staff:1")
        return item

    def move(self, item: FeedbackRecord, to_queue: str, at: datetime) -> None:
        """A staff member moves the item to another queue at `at`."""
        self.clock.now = at
        self.repository.move_item(item.id, to_queue=to_queue, actor="staff:1", source="staff_relabel")


def known_sales_data(feedback: Feedback) -> None:
    """The data the expectations below are computed from by hand (see each comment)."""
    hour = timedelta(hours=1)
    # This period, sales: 4 complaints, 1 question, 1 suggestion, 2 praise = 8 new.
    feedback.add("sales", "complaint", f"退款三天了还没到账，请打{PHONE}联系我", START + 1 * hour)
    feedback.add("sales", "complaint", "申请退款一直没有人处理，我要投诉到12315！！", START + 2 * hour)
    feedback.add("sales", "complaint", "退款进度怎么这么久", START + 3 * hour, resolved_at=START + 20 * hour)
    feedback.add("sales", "question", f"退款什么时候能到账？邮箱 {EMAIL}", START + 4 * hour)
    feedback.add("sales", "complaint", "快递一周才到", START + 5 * hour, resolved_at=START + 21 * hour)
    feedback.add("sales", "suggestion", "快递包装可以再结实一点", START + 6 * hour)
    feedback.add("sales", "praise", "客服回复很及时，谢谢", START + 7 * hour)
    feedback.add("sales", "praise", "客服态度很好", START + 8 * hour)
    # Arrived this period but moved out to service by staff: not new for sales.
    moved_out = feedback.add("sales", "question", "发票开错了", START + 9 * hour)
    feedback.move(moved_out, "service", START + 10 * hour)
    # Previous period: 3 complaints (one moved in from product this period), 2 questions.
    feedback.add("sales", "complaint", "退款没到账", START - 20 * hour)
    feedback.add("sales", "complaint", "快递丢件了", START - 19 * hour)
    feedback.add("sales", "question", "怎么开发票", START - 18 * hour)
    moved_in = feedback.add("product", "complaint", "价格太贵了", START - 17 * hour)
    feedback.move(moved_in, "sales", START + 11 * hour)
    feedback.add("sales", "question", "发票什么时候开", START - 6 * hour, resolved_at=START + 12 * hour)
    # Three days old and still open: the oldest open item, overdue.
    feedback.add("sales", "complaint", "换货申请没有回音", END - 70 * hour)
    # Other departments' items never count for sales.
    feedback.add("product", "complaint", "退款退款退款", START + 1 * hour)


@pytest.fixture
def feedback(migrated_engine: Engine) -> Feedback:
    """A feedback writer on a fresh database (SQLite file and PostgreSQL)."""
    clock = Clock(START)
    return Feedback(Repository(migrated_engine, clock=clock), clock)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file, for tests of rendering rather than of SQL."""
    url = f"sqlite:///{tmp_path / 'feedbot.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_feedback(sqlite_engine: Engine) -> Feedback:
    """A feedback writer on a fresh SQLite file."""
    clock = Clock(START)
    return Feedback(Repository(sqlite_engine, clock=clock), clock)


def sales_request(language: str = "zh") -> DigestRequest:
    return DigestRequest(
        department="sales",
        language=language,
        timezone="Asia/Shanghai",
        response_hours=24,
        period_start=START,
        period_end=END,
    )


def test_counts_trends_and_moves_match_the_hand_computed_numbers(
    feedback: Feedback, migrated_engine: Engine
) -> None:
    known_sales_data(feedback)

    content = collect_digest(DigestQueries(migrated_engine), sales_request())

    assert content.current.new == 8
    assert content.current.by_kind == {
        "complaint": 4, "suggestion": 1, "praise": 2, "question": 1, "other": 0,
    }  # fmt: skip
    assert content.previous.new == 5
    assert content.previous.by_kind == {
        "complaint": 3, "suggestion": 0, "praise": 0, "question": 2, "other": 0,
    }  # fmt: skip
    assert (content.current.resolved, content.previous.resolved) == (3, 0)
    assert content.current.moved_in == {"product": 1}
    assert content.current.moved_out == {"service": 1}
    # Open at the end: 6 of this period, 4 of the previous one and the 3-day-old item;
    # overdue (older than 24 h): the previous period's 4 and the old one.
    assert (content.backlog.open, content.backlog.overdue) == (11, 5)
    # 14 sales items arrived in the last 7 days, 3 were resolved.
    assert content.week_average("new") == pytest.approx(14 / 7)
    assert content.week_average("resolved") == pytest.approx(3 / 7)
    # Day windows end at 09:00; the item 70 h old is in the third window from the end.
    assert [day.total for day in content.days][-4:] == [0, 1, 5, 8]
    assert content.days[-1].by_kind["praise"] == 2
    assert [item.text for item in content.oldest_open][:1] == ["换货申请没有回音"]
    assert [item.text for item in content.strongest] == ["申请退款一直没有人处理，我要投诉到12315！！"]


def test_themes_count_messages_and_compare_with_the_previous_period(
    feedback: Feedback, migrated_engine: Engine
) -> None:
    known_sales_data(feedback)

    content = collect_digest(DigestQueries(migrated_engine), sales_request())

    # 退款 is in 4 messages (1 before), 快递 in 2 (1 before), 客服 in 2 (none before);
    # 到账 only ever appears beside 退款, so it is not a theme of its own.
    assert [(t.keyword, t.count, t.previous) for t in content.themes] == [
        ("退款", 4, 1),
        ("快递", 2, 1),
        ("客服", 2, 0),
    ]
    assert content.themes[1].quotes == ("快递包装可以再结实一点", "快递一周才到")


def test_rendered_chinese_digest_reads_as_expected(sqlite_feedback: Feedback, sqlite_engine: Engine) -> None:
    known_sales_data(sqlite_feedback)

    [message] = render_digest(collect_digest(DigestQueries(sqlite_engine), sales_request()))

    lines = message.split("\n")
    assert lines[0] == "📊 <b>销售部日报</b> · 5月14日（周二）09:00"
    assert lines[1] == "统计时段：5月13日（周一）09:00 – 5月14日（周二）09:00（Asia/Shanghai）"
    for expected in [
        "• 新增：8（较上期 +3；近7日日均 2.0）",
        "• 已解决：3（较上期 +3；近7日日均 0.4）",
        "• 仍未处理：11，其中 5 条超过 24 小时响应目标",
        "• 员工转入：1（产品 1）；转出：1（服务 1）",
        "• 投诉：4（+1）",
        "• 建议：1（+1）",
        "• 表扬：2（+2）",
        "• 咨询：1（−1）",
        "1. <b>退款</b> — 4 条（较上期 +3）",
        "2. <b>快递</b> — 2 条（较上期 +1）",
        "3. <b>客服</b> — 2 条（较上期 新）",
    ]:
        assert expected in lines


def test_english_digest_uses_english_words(sqlite_feedback: Feedback, sqlite_engine: Engine) -> None:
    known_sales_data(sqlite_feedback)

    [message] = render_digest(collect_digest(DigestQueries(sqlite_engine), sales_request("en")))

    assert message.startswith("📊 <b>Sales digest</b> · Tue 14 May 09:00\n")
    assert "• New: 8 (+3 vs previous period; 7-day average 2.0/day)" in message
    assert "• Moved in by staff: 1 (product 1); moved out: 1 (service 1)" in message
    assert "3. <b>客服</b> — 2 messages (new vs previous)" in message


def test_phone_numbers_and_emails_never_appear_unmasked(feedback: Feedback, migrated_engine: Engine) -> None:
    known_sales_data(feedback)
    # The strongest complaint of the period also carries contact details.
    feedback.add(
        "sales",
        "complaint",
        f"骗子！退款不给，我要找律师！电话 +86 139-1234-5678 或 {EMAIL} 或 010-87654321",
        START + timedelta(hours=13),
    )

    digest = build_digest(DigestQueries(migrated_engine), sales_request())

    shown = "\n".join(digest.messages)
    assert "〔电话〕" in shown and "〔邮箱〕" in shown
    digits = re.sub(r"\D", "", plain_text(shown))
    for secret in (PHONE, "13912345678", "87654321"):
        assert secret not in digits
    assert EMAIL not in shown and "example.com" not in shown


def test_customer_text_is_html_escaped(sqlite_feedback: Feedback, sqlite_engine: Engine) -> None:
    for hour in (1, 2):
        text = "<b>退款</b> & <script>退款</script>"
        sqlite_feedback.add("sales", "complaint", text, START + timedelta(hours=hour))

    [message] = render_digest(collect_digest(DigestQueries(sqlite_engine), sales_request()))

    assert "<script>" not in message
    assert "&lt;b&gt;退款&lt;/b&gt; &amp; &lt;script&gt;" in message


def test_quiet_day_gets_a_short_nothing_new_digest_without_chart(
    feedback: Feedback, migrated_engine: Engine
) -> None:
    feedback.add("sales", "complaint", "换货申请没有回音", END - timedelta(hours=70))

    digest = build_digest(DigestQueries(migrated_engine), sales_request())

    assert digest.messages == [
        "📭 <b>销售部日报</b> · 5月14日（周二）09:00\n"
        "自 5月13日（周一）09:00 以来没有新增、解决或转移的反馈。\n"
        "• 仍未处理：1，其中 1 条超过 24 小时响应目标"
    ]
    assert digest.chart is None


def test_late_digest_says_so_and_counts_skipped_ones(
    sqlite_feedback: Feedback, sqlite_engine: Engine
) -> None:
    known_sales_data(sqlite_feedback)
    request = DigestRequest(
        department="sales",
        language="en",
        timezone="Asia/Shanghai",
        response_hours=24,
        period_start=START,
        period_end=END,
        late=True,
        skipped_before=2,
    )

    [message] = render_digest(collect_digest(DigestQueries(sqlite_engine), request))

    assert "⏰ <i>Sent late: the bot was not running at 09:00.</i>" in message
    assert "⚠️ <i>2 earlier digest(s) were not sent while the bot was down.</i>" in message


def test_themes_read_only_the_newest_texts_and_scale_their_counts(
    sqlite_feedback: Feedback, sqlite_engine: Engine
) -> None:
    for minute in range(6):
        text = "我要退款" if minute % 2 else "快递丢件"
        sqlite_feedback.add("sales", "complaint", text, START + timedelta(minutes=10 * minute + 1))

    content = collect_digest(DigestQueries(sqlite_engine), sales_request(), text_limit=4)

    # The newest 4 texts hold 退款 twice and 快递 twice; 6 of 6 texts scale that by 1.5.
    assert content.texts_read == 4 and content.sampled
    assert sorted((t.keyword, t.count) for t in content.themes) == [("快递", 3), ("退款", 3)]
    assert "（主题取自最新的 4 条反馈，共 6 条。）" in render_digest(content)[0]


def test_forgotten_texts_still_count_but_are_never_quoted(
    sqlite_feedback: Feedback, sqlite_engine: Engine
) -> None:
    items = [
        sqlite_feedback.add("sales", "complaint", f"退款没到账，电话{PHONE}", START + timedelta(hours=h))
        for h in (1, 2, 3)
    ]
    for item in items:
        sqlite_feedback.repository.forget_customer(item.chat_id)  # /forget

    content = collect_digest(DigestQueries(sqlite_engine), sales_request())

    assert (content.current.new, content.current.new_with_text) == (3, 0)
    assert content.themes == [] and content.strongest == []
    assert all(item.text == "" for item in content.oldest_open)


def test_day_windows_follow_local_days_across_daylight_saving() -> None:
    # Berlin switched to summer time on 31 March 2024: that local day had 23 hours.
    end = datetime(2024, 4, 2, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (CEST)
    boundaries = day_boundaries(end, ZoneInfo("Europe/Berlin"), days=3)

    local = [b.astimezone(ZoneInfo("Europe/Berlin")).strftime("%m-%d %H:%M") for b in boundaries]
    assert local == ["03-30 09:00", "03-31 09:00", "04-01 09:00", "04-02 09:00"]
    assert boundaries[2] - boundaries[1] == timedelta(hours=24)
    assert boundaries[1] - boundaries[0] == timedelta(hours=23)
