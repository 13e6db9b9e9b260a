"""The `feedbot` command: train, evaluate, classify, db, sandbox, run, demo, digest."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.config import DEFAULT_CONFIG, TOKEN_ENV, WEBHOOK_SECRET_ENV, Config, ConfigError, load_config
from bot.logs import configure_logging
from classifier.persist import ModelError
from storage.errors import StorageError


class CliError(RuntimeError):
    """A command failed in a way the user can fix; printed without a traceback."""


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    """Build a model from the training data and print its report."""
    from classifier.evaluation import format_report
    from classifier.train import train

    data_dir = Path(args.data_dir or config.get("classifier", "training_data_dir"))
    result = train(
        data_dir,
        config.models_dir,
        threshold=config.threshold,
        compare=args.compare,
        progress=_progress,
    )
    report_path = result.model_dir / "report.txt"
    lines = []
    if result.report["comparison"]:
        lines.append("cross-validated comparison (macro-F1 over sales/product/service):")
        for row in result.report["comparison"]:
            lines.append(
                f"  features={row['features']:<5} model={row['model']:<7} "
                f"macro-F1 {row['cv_macro_f1_departments']:.3f}  accuracy {row['cv_accuracy']:.3f}"
            )
        lines.append("")
    if "test" in result.report:
        lines.append("frozen test set:")
        lines.append(format_report(result.report["test"]))
    text = "\n".join(lines)
    report_path.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nmodel saved to {result.model_dir} (report: {report_path})")
    return 0


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    """Score the current model on the frozen test set or a labeled JSONL file."""
    from classifier.dataset import read_examples
    from classifier.evaluation import format_report
    from classifier.persist import load_model
    from classifier.train import TEST_FILE, score_examples

    path = Path(args.data) if args.data else Path(config.get("classifier", "training_data_dir")) / TEST_FILE
    if not path.is_file():
        raise CliError(f"labeled data file {path} does not exist")
    loaded = load_model(config.models_dir, config.threshold)
    scores = score_examples(loaded.classifier, read_examples(path))
    if args.json:
        print(json.dumps(scores, ensure_ascii=False, indent=2))
    else:
        print(f"model {loaded.version} on {path}")
        print(format_report(scores))
        print(f"kind accuracy {scores['kind_accuracy']:.3f}")
    return 0


def cmd_classify(args: argparse.Namespace, config: Config) -> int:
    """Classify JSON Lines records from a file or standard input."""
    from classifier.jsonl import classify_lines
    from classifier.persist import load_model

    loaded = load_model(config.models_dir, config.threshold)
    try:
        source = open(args.file, encoding="utf-8") if args.file else sys.stdin  # noqa: SIM115
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror}") from None
    with source:
        for result in classify_lines(loaded.classifier, source):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


def cmd_db(args: argparse.Namespace, config: Config) -> int:
    """Apply or inspect database migrations."""
    from storage.db import check_schema, downgrade, make_engine, upgrade

    if args.action == "upgrade":
        upgrade(config.database_url)
        print(f"database {_safe_url(config.database_url)} is at the newest schema")
    elif args.action == "downgrade":
        downgrade(config.database_url, args.revision)
        print(f"database {_safe_url(config.database_url)} downgraded to {args.revision}")
    else:
        check_schema(make_engine(config.database_url))
        print(f"database {_safe_url(config.database_url)} schema is current")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_sandbox(args: argparse.Namespace, config: Config) -> int:
    """Run the local Telegram Bot API stand-in."""
    from bot.sandbox.runner import serve_forever

    print(
        f"Bot API sandbox on http://{args.host}:{args.port} "
        f'(set telegram.base_url = "http://{args.host}:{args.port}/bot")',
        flush=True,
    )
    serve_forever(args.host, args.port)
    return 0


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Run the bot (token from TELEGRAM_BOT_TOKEN)."""
    from bot.app import run

    run(config)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """Run the product against the local sandbox with a scripted conversation."""
    from bot.demo import run_demo

    return run_demo(config, port=args.port, database=Path(args.database), once=args.once)


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    """Render a department's digest now; print it, write the chart, optionally send it."""
    from bot.digest.command import run_digest_command

    return run_digest_command(
        config,
        args.department,
        since=_moment(args.since),
        until=_moment(args.until),
        send=args.send,
        out_dir=Path(args.out) if args.out else None,
    )


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"not a date or time: {value!r} (use e.g. 2026-11-21 or 2026-11-21T09:00)") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="feedbot", description=__doc__)
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: config.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="build the model from training_data/")
    train.add_argument("--data-dir", help="directory with train.jsonl and test.jsonl")
    train.add_argument(
        "--no-compare",
        dest="compare",
        action="store_false",
        help="skip the cross-validated comparison and use the default settings",
    )
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score the current model")
    evaluate.add_argument("--data", help="labeled JSONL file (default: the frozen test set)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    classify = commands.add_parser("classify", help='classify JSON Lines {"id", "text"}')
    classify.add_argument("file", nargs="?", help="input file (default: standard input)")
    classify.set_defaults(handler=cmd_classify)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "downgrade", "check"])
    db.add_argument("revision", nargs="?", default="base", help="target of downgrade")
    db.set_defaults(handler=cmd_db)

    sandbox = commands.add_parser("sandbox", help="run the local Bot API stand-in")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.set_defaults(handler=cmd_sandbox)

    run = commands.add_parser("run", help="run the bot (token from TELEGRAM_BOT_TOKEN)")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", help="run the bot against the local sandbox, no Telegram needed")
    demo.add_argument("--port", type=int, default=8081, help="sandbox port (0: any free port)")
    demo.add_argument("--database", default="var/demo.db", help="SQLite file of the demo")
    demo.add_argument("--once", action="store_true", help="exit after the scripted conversation")
    demo.set_defaults(handler=cmd_demo)

    digest = commands.add_parser("digest", help="render (and send) a department's digest now")
    digest.add_argument("department", choices=["sales", "product", "service"])
    digest.add_argument("--since", help="start (ISO date/time, department's zone; default: last digest)")
    digest.add_argument("--until", help="end (ISO date/time, department's zone; default: now)")
    digest.add_argument("--send", action="store_true", help="deliver it to the department's leads")
    digest.add_argument(
        "--out", help="directory for the chart PNG (default: digest-out)", default="digest-out"
    )
    digest.set_defaults(handler=cmd_digest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `feedbot` command."""
    args = build_parser().parse_args(argv)
    # The token is redacted from every log line, whichever library writes it.
    configure_logging(
        args.verbose, secrets=[os.environ.get(TOKEN_ENV, ""), os.environ.get(WEBHOOK_SECRET_ENV, "")]
    )
    try:
        config = load_config(args.config)
        return int(args.handler(args, config))
    except (ConfigError, ModelError, CliError, StorageError) as error:
        print(f"feedbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
