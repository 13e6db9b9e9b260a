"""The real `feedbot classify` and `feedbot evaluate` commands, run as a user would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from classifier.labels import DEPARTMENTS, KINDS, PRIMARY_LABELS
from classifier.tokenizer import MAX_CHARS

# Not the saved 0.7, so `evaluate` reporting 0.6 shows the config override reaches the command.
THRESHOLD = 0.6
RESULT_KEYS = {"id", "queue", "label", "confidence", "kind", "secondary"}
LONG_TEXT = "价格太贵了，" * 700  # 4,200 characters
# The input the classify tests share; a blank line is skipped but still counts for line numbers.
RECORDS: list[str] = [
    json.dumps({"id": "late", "text": "等了一个半小时才送到，饭都凉了"}, ensure_ascii=False),
    json.dumps({"id": "praise", "text": "非常满意，好评"}, ensure_ascii=False),
    json.dumps({"id": "blank", "text": "   \n\t"}),
    json.dumps({"id": "empty", "text": ""}),
    "",
    '{"id": "broken", "text": "屏幕坏了"',
    json.dumps({"id": "after-broken", "text": "屏幕有坏点，用了两天就黑屏"}, ensure_ascii=False),
    json.dumps({"id": "no-text", "message": "屏幕坏了"}, ensure_ascii=False),
    json.dumps({"id": "long", "text": LONG_TEXT}, ensure_ascii=False),
    json.dumps({"id": "long-cut", "text": LONG_TEXT[:MAX_CHARS]}, ensure_ascii=False),
    json.dumps({"id": "english", "text": "The delivery was two hours late and the courier was rude"}),
    json.dumps({"id": 42, "text": "希望能开发票，公司报销要用"}, ensure_ascii=False),
]


def feedbot(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a fresh interpreter, in the config's directory."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=config.parent,
        timeout=120,
    )


def write_config(directory: Path, models_dir: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.toml"
    config.write_text(
        f"[classifier]\nmodels_dir = {json.dumps(str(models_dir))}\nthreshold = {THRESHOLD}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def config(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("cli"), models_dir)


@pytest.fixture(scope="module")
def classified(config: Path) -> subprocess.CompletedProcess[str]:
    """`feedbot classify` reading RECORDS from standard input."""
    return feedbot(config, "classify", stdin="\n".join(RECORDS) + "\n")


@pytest.fixture(scope="module")
def results(classified: subprocess.CompletedProcess[str]) -> dict[Any, dict[str, Any]]:
    """Output lines by record id, or by line number for lines that have no id."""
    lines = [json.loads(line) for line in classified.stdout.splitlines()]
    return {line.get("id", f"line {line.get('line')}"): line for line in lines}


def test_classify_exits_zero_with_one_output_line_per_nonblank_input_line(
    classified: subprocess.CompletedProcess[str],
) -> None:
    assert classified.returncode == 0, classified.stderr
    assert len(classified.stdout.splitlines()) == len([r for r in RECORDS if r.strip()])


def test_output_keeps_the_input_order(results: dict[Any, dict[str, Any]]) -> None:
    assert list(results) == [
        "late",
        "praise",
        "blank",
        "empty",
        "line 6",
        "after-broken",
        "line 8",
        "long",
        "long-cut",
        "english",
        42,
    ]


@pytest.mark.parametrize("record_id", ["late", "praise", "after-broken", "long-cut", "english", 42])
def test_classified_line_has_exactly_the_contract_keys(
    results: dict[Any, dict[str, Any]], record_id: Any
) -> None:
    result = results[record_id]
    assert set(result) == RESULT_KEYS
    assert result["label"] in PRIMARY_LABELS
    assert 0.0 <= result["confidence"] <= 1.0
    assert result["kind"] in KINDS
    assert isinstance(result["secondary"], list)
    assert set(result["secondary"]) <= set(DEPARTMENTS) - {result["label"]}


@pytest.mark.parametrize("record_id", ["late", "praise", "after-broken", "long", "long-cut", "english", 42])
def test_queue_is_the_label_when_confident_and_triage_otherwise(
    results: dict[Any, dict[str, Any]], record_id: Any
) -> None:
    result = results[record_id]
    expected = result["label"] if result["confidence"] >= THRESHOLD else "triage"
    assert result["queue"] == expected


@pytest.mark.parametrize(
    ("record_id", "queue", "label"),
    [
        ("late", "service", "service"),
        # A confident `none` is its own queue: nothing to act on, and no human needs to look.
        ("praise", "none", "none"),
    ],
)
def test_clear_messages_are_routed(
    results: dict[Any, dict[str, Any]], record_id: str, queue: str, label: str
) -> None:
    assert (results[record_id]["queue"], results[record_id]["label"]) == (queue, label)


@pytest.mark.parametrize("record_id", ["blank", "empty"])
def test_empty_text_goes_to_triage_with_a_note(results: dict[Any, dict[str, Any]], record_id: str) -> None:
    assert results[record_id] == {
        "id": record_id,
        "queue": "triage",
        "label": "none",
        "confidence": 0.0,
        "kind": "other",
        "secondary": [],
        "note": "empty text",
    }


def test_text_over_the_limit_is_classified_on_its_beginning_with_a_note(
    results: dict[Any, dict[str, Any]],
) -> None:
    long = dict(results["long"])
    assert f"longer than {MAX_CHARS} characters" in long.pop("note")
    assert {**long, "id": "long-cut"} == results["long-cut"]


def test_english_only_text_is_classified(results: dict[Any, dict[str, Any]]) -> None:
    assert results["english"]["label"] == "service"


def test_malformed_json_line_is_an_error_naming_its_line_and_the_next_line_is_classified(
    results: dict[Any, dict[str, Any]],
) -> None:
    assert results["line 6"]["error"].startswith("line 6: not valid JSON")
    assert results["after-broken"]["label"] == "product"


def test_record_without_text_is_an_error_naming_its_line(results: dict[Any, dict[str, Any]]) -> None:
    assert results["line 8"] == {"line": 8, "error": 'line 8: expected an object with a "text" field'}


def test_file_argument_gives_the_same_output_as_standard_input(
    config: Path, classified: subprocess.CompletedProcess[str]
) -> None:
    source = config.parent / "feedback.jsonl"
    source.write_text("\n".join(RECORDS) + "\n", encoding="utf-8")
    from_file = feedbot(config, "classify", str(source))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == classified.stdout


def test_evaluate_on_a_small_labeled_file_reports_accuracy_as_json(config: Path) -> None:
    labeled = config.parent / "labeled.jsonl"
    rows = [
        ("a", "等了一个半小时才送到，饭都凉了", "service", "complaint"),
        ("b", "昨天买的今天就降价五十，能补差价吗", "sales", "complaint"),
        ("c", "屏幕有坏点，用了两天就黑屏", "product", "complaint"),
        ("d", "很好吃，会再来", "none", "praise"),
        ("e", "客服态度太差了，问什么都不回", "service", "complaint"),
    ]
    labeled.write_text(
        "".join(
            json.dumps({"id": i, "text": t, "primary": p, "kind": k}, ensure_ascii=False) + "\n"
            for i, t, p, k in rows
        ),
        encoding="utf-8",
    )
    evaluated = feedbot(config, "evaluate", "--data", str(labeled), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(evaluated.stdout)
    assert scores["examples"] == len(rows)
    assert 0.0 <= scores["accuracy"] <= 1.0
    assert scores["threshold"] == THRESHOLD


def test_classify_without_a_model_exits_2_naming_the_missing_file_and_the_fix(tmp_path: Path) -> None:
    empty_models = tmp_path / "models"
    empty_models.mkdir()
    config = write_config(tmp_path / "conf", empty_models)
    finished = feedbot(config, "classify", stdin=RECORDS[0] + "\n")
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert str(empty_models / "CURRENT") in finished.stderr
    assert "feedbot train" in finished.stderr
