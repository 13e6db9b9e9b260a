"""Every word a digest or an overdue alert shows a lead, in Chinese and English."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("zh", "en")

# Placeholders are str.format fields; values are escaped before they are filled in.
TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "📊 <b>{department}日报</b> · {when}",
        "title_quiet": "📭 <b>{department}日报</b> · {when}",
        "period": "统计时段：{start} – {end}（{zone}）",
        "late": "⏰ <i>补发：{time} 时机器人未运行，这份日报晚到了。</i>",
        "skipped": "⚠️ <i>此前有 {count} 份日报因机器人未运行而未发送。</i>",
        "quiet": "自 {start} 以来没有新增、解决或转移的反馈。",
        "volume": "<b>数量</b>",
        "new": "• 新增：{count}（较上期 {change}；近7日日均 {average}）",
        "resolved": "• 已解决：{count}（较上期 {change}；近7日日均 {average}）",
        "open": "• 仍未处理：{count}，其中 {overdue} 条超过 {hours} 小时响应目标",
        "moved": "• 员工转入：{moved_in}；转出：{moved_out}",
        "moved_detail": "{count}（{detail}）",
        "list_separator": "、",
        "kinds": "<b>按类型</b>",
        "kind_line": "• {kind}：{count}（{change}）",
        "themes": "<b>热点主题</b>",
        "theme": "{rank}. <b>{keyword}</b> — {count} 条（较上期 {change}）",
        "quote": "   「{quote}」",
        "sampled": "<i>（主题取自最新的 {read} 条反馈，共 {total} 条。）</i>",
        "no_themes": "<i>反馈太少，还看不出主题。</i>",
        "attention": "<b>需要关注</b>",
        "oldest": "等待最久：",
        "strongest": "投诉最强烈：",
        "item": "• {ticket} · {age} · {kind} · 「{quote}」",
        "days_hours": "{days}天{hours}小时",
        "hours": "{hours}小时",
        "minutes": "{minutes}分钟",
        "digest_label": "{department} · {date}",
        "chart_daily": "近{days}天每日新增反馈（截至每天 {time}）",
        "chart_themes": "本期热点主题（条）",
        "chart_previous": "上期",
        "chart_current": "本期",
        "chart_no_themes": "本期暂无主题",
        "overdue_title": "⏰ <b>{count} 条{department}反馈超过 {hours} 小时响应目标</b>",
        "overdue_item": "• {ticket} · 已等待 {age} · {kind} · 「{quote}」",
        "overdue_more": "……另有 {count} 条",
        "new_trend": "新",
    },
    "en": {
        "title": "📊 <b>{department} digest</b> · {when}",
        "title_quiet": "📭 <b>{department} digest</b> · {when}",
        "period": "Period: {start} – {end} ({zone})",
        "late": "⏰ <i>Sent late: the bot was not running at {time}.</i>",
        "skipped": "⚠️ <i>{count} earlier digest(s) were not sent while the bot was down.</i>",
        "quiet": "Nothing new since {start}: no feedback arrived, was resolved or was moved.",
        "volume": "<b>Volume</b>",
        "new": "• New: {count} ({change} vs previous period; 7-day average {average}/day)",
        "resolved": "• Resolved: {count} ({change}; 7-day average {average}/day)",
        "open": "• Still open: {count}, {overdue} of them past the {hours} h response target",
        "moved": "• Moved in by staff: {moved_in}; moved out: {moved_out}",
        "moved_detail": "{count} ({detail})",
        "list_separator": ", ",
        "kinds": "<b>By kind</b>",
        "kind_line": "• {kind}: {count} ({change})",
        "themes": "<b>Top themes</b>",
        "theme": "{rank}. <b>{keyword}</b> — {count} messages ({change} vs previous)",
        "quote": "   “{quote}”",
        "sampled": "<i>(Themes from the newest {read} of {total} messages.)</i>",
        "no_themes": "<i>Too few messages to see themes yet.</i>",
        "attention": "<b>Needs attention</b>",
        "oldest": "Open longest:",
        "strongest": "Strongest complaints:",
        "item": "• {ticket} · {age} · {kind} · “{quote}”",
        "days_hours": "{days} d {hours} h",
        "hours": "{hours} h",
        "minutes": "{minutes} min",
        "digest_label": "{department} · {date}",
        "chart_daily": "New feedback per day, last {days} days (24 h up to {time})",
        "chart_themes": "Top themes this period (messages)",
        "chart_previous": "previous",
        "chart_current": "this period",
        "chart_no_themes": "No themes this period",
        "overdue_title": "⏰ <b>{count} {department} item(s) past the {hours} h response target</b>",
        "overdue_item": "• {ticket} · waiting {age} · {kind} · “{quote}”",
        "overdue_more": "… and {count} more",
        "new_trend": "new",
    },
}

DEPARTMENT_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": {"sales": "销售部", "product": "产品部", "service": "服务部"},
    "en": {"sales": "Sales", "product": "Product", "service": "Service"},
}

QUEUE_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "sales": "销售", "product": "产品", "service": "服务", "triage": "分诊",
        "none": "无需处理", "unrouted": "未分配",
    },
    "en": {
        "sales": "sales", "product": "product", "service": "service", "triage": "triage",
        "none": "no action", "unrouted": "unrouted",
    },
}  # fmt: skip

KIND_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": {"complaint": "投诉", "suggestion": "建议", "praise": "表扬", "question": "咨询", "other": "其他"},
    "en": {
        "complaint": "Complaints", "suggestion": "Suggestions", "praise": "Praise",
        "question": "Questions", "other": "Other",
    },
}  # fmt: skip

# One item's kind in a list line, where the plural headings above read oddly.
ITEM_KIND_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": KIND_NAMES["zh"],
    "en": {
        "complaint": "complaint", "suggestion": "suggestion", "praise": "praise",
        "question": "question", "other": "other",
    },
}  # fmt: skip

WEEKDAYS: Final[dict[str, tuple[str, ...]]] = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


def text(language: str, key: str) -> str:
    """The string `key` in `language` (English if the language is unknown)."""
    return TEXTS.get(language, TEXTS["en"])[key]


def department_name(language: str, department: str) -> str:
    """How a department is called in `language`."""
    return DEPARTMENT_NAMES.get(language, DEPARTMENT_NAMES["en"]).get(department, department)
