"""Every string a customer or staff member reads, in Chinese and English."""

from __future__ import annotations

from typing import Final

DEPARTMENT_NAMES: Final = {
    "zh": {
        "sales": "销售部",
        "product": "产品部",
        "service": "服务部",
        "triage": "人工分拣",
        "none": "无需处理",
    },
    "en": {
        "sales": "Sales",
        "product": "Product",
        "service": "Service",
        "triage": "Triage",
        "none": "No action",
    },
}
STATUS_NAMES: Final = {
    "zh": {
        "new": "待处理",
        "in_progress": "处理中",
        "resolved": "已解决",
        "triage": "人工分拣中",
        "awaiting_customer": "等待您选择",
    },
    "en": {
        "new": "new",
        "in_progress": "in progress",
        "resolved": "resolved",
        "triage": "in triage",
        "awaiting_customer": "waiting for your choice",
    },
}

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "help": {
        "zh": "您好！直接把意见、投诉或建议发给我（文字，或带说明的图片/文件）。\n"
        "我会立刻转给负责的部门（销售、产品或服务），并给您一个工单号。\n"
        "/status 查看您的工单 · /language 切换语言 · /forget 删除您的数据",
        "en": "Hi! Send me your feedback, complaint or suggestion (text, or a photo/file with a caption).\n"
        "I pass it straight to the team that can act on it (sales, product or service) and give you a ticket number.\n"
        "/status your tickets · /language switch language · /forget delete your data",
    },
    "routed": {
        "zh": "已收到，工单号 {ticket}。已转给{department}处理，我们会尽快跟进。",
        "en": "Got it: ticket {ticket}. It went to the {department} team, who will follow up.",
    },
    "thanks": {
        "zh": "谢谢您的反馈！工单号 {ticket}。",
        "en": "Thank you for your feedback! Ticket {ticket}.",
    },
    "ask_choice": {
        "zh": "已收到，工单号 {ticket}。为了交给对的人，请问这更像是哪类问题？",
        "en": "Got it: ticket {ticket}. To get it to the right people: which fits best?",
    },
    "not_sure": {"zh": "不确定", "en": "Not sure"},
    "choice_done": {
        "zh": "工单 {ticket} 已转给{department}，谢谢！",
        "en": "Ticket {ticket} went to the {department} team. Thank you!",
    },
    "choice_triage": {
        "zh": "工单 {ticket} 已交给客服同事人工分配，谢谢！",
        "en": "Ticket {ticket} went to our staff, who will pick the right team. Thank you!",
    },
    "choice_expired": {
        "zh": "这个问题已经过期了，工单已交给同事处理。",
        "en": "This question has expired; staff already have the ticket.",
    },
    "resolved": {
        "zh": "您的工单 {ticket} 已处理完成。谢谢您的反馈！",
        "en": "Your ticket {ticket} has been resolved. Thank you for telling us!",
    },
    "status_none": {"zh": "您目前没有未完成的工单。", "en": "You have no open tickets."},
    "status_header": {"zh": "您的未完成工单：", "en": "Your open tickets:"},
    "status_line": {
        "zh": "{ticket} · {department} · {status}",
        "en": "{ticket} · {department} · {status}",
    },
    "status_one": {
        "zh": "{ticket} · {department} · {status}\n{text}",
        "en": "{ticket} · {department} · {status}\n{text}",
    },
    "status_unknown": {
        "zh": "找不到工单 {ticket}（只能查看您自己的工单）。",
        "en": "No ticket {ticket} of yours was found.",
    },
    "forget_confirm": {
        "zh": "确定要删除您发送过的所有内容吗？删除后无法恢复。",
        "en": "Delete everything you have sent us? This cannot be undone.",
    },
    "forget_yes": {"zh": "确定删除", "en": "Yes, delete"},
    "forget_no": {"zh": "取消", "en": "Cancel"},
    "forget_done": {
        "zh": "已删除您的 {count} 条反馈内容。",
        "en": "Deleted the text of your {count} messages.",
    },
    "forget_cancelled": {"zh": "已取消，什么都没有删除。", "en": "Cancelled; nothing was deleted."},
    "language_set": {"zh": "好的，之后用中文回复您。", "en": "OK, I will reply in English."},
    "unsupported": {
        "zh": "抱歉，我只能处理文字，或带文字说明的图片和文件。请用文字描述您的问题。",
        "en": "Sorry, I can only take text, or a photo or file with a caption. Please describe it in words.",
    },
    "empty_caption": {
        "zh": "收到您的{media}了（工单号 {ticket}），但没有文字说明。同事会查看；也请再发一条文字，说说是什么问题。",
        "en": "I got your {media} (ticket {ticket}) but no caption. Staff will look at it; please also send a line of text saying what it is about.",
    },
    "media_photo": {"zh": "图片", "en": "photo"},
    "media_document": {"zh": "文件", "en": "file"},
    "too_fast": {
        "zh": "您发得有点快，我们都收到了，会一并处理。请稍候一分钟再发。",
        "en": "You are sending a lot at once; everything has been saved and will be handled. Please wait a minute.",
    },
    "edited": {
        "zh": "已更新工单 {ticket} 的内容。",
        "en": "Updated the text of ticket {ticket}.",
    },
    "trouble": {
        "zh": "抱歉，系统暂时出了点问题。您的消息没有丢，我们恢复后会立即处理。",
        "en": "Sorry, we have a temporary problem. Your message is not lost; we will handle it as soon as we are back.",
    },
    "not_staff": {"zh": "只有工作人员可以操作。", "en": "Only staff can do that."},
}


def text(key: str, language: str, **values: object) -> str:
    """The string `key` in `language` (falling back to Chinese), filled with `values`."""
    variants = _TEXTS[key]
    return variants.get(language, variants["zh"]).format(**values)


def department_name(queue: str, language: str) -> str:
    """Human name of a queue."""
    return DEPARTMENT_NAMES.get(language, DEPARTMENT_NAMES["zh"]).get(queue, queue)


def status_name(status: str, language: str) -> str:
    """Human name of an item status."""
    return STATUS_NAMES.get(language, STATUS_NAMES["zh"]).get(status, status)
