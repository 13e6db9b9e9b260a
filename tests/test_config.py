"""Configuration: defaults, overrides from the environment, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEPARTMENT_SETTINGS, SETTINGS, ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_file_is_valid() -> None:
    config = load_config(ROOT / "config.toml", env={})
    assert config.database_url == "sqlite:///var/feedbot.db"
    assert set(config.departments) == {"sales", "product", "service"}


def test_environment_overrides_database_and_supplies_secrets() -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://u@h/db", "TELEGRAM_BOT_TOKEN": "1:abc"}
    config = parse_config({}, env=env)
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.token == "1:abc"
    assert "1:abc" not in repr(config)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"classifier": {"treshold": 0.5}}, "unknown key 'treshold'"),
        ({"classifer": {}}, "unknown section [classifer]"),
        ({"classifier": {"threshold": "high"}}, "[classifier].threshold: expected float or int"),
        ({"classifier": {"threshold": 3}}, "threshold: expected a number from 0 to 1"),
        ({"telegram": {"mode": "push"}}, "mode: expected polling or webhook"),
        ({"departments": {"hr": {}}}, "unknown department [departments.hr]"),
        ({"departments": {"sales": {"timezone": "Mars/Base"}}}, "timezone: unknown time zone 'Mars/Base'"),
        ({"departments": {"sales": {"digest_time": "9am"}}}, "digest_time: expected HH:MM"),
        ({"staff": {"admins": 5}}, "[staff].admins: expected list"),
        ({"intake": {"rate_limit_per_minute": True}}, "expected int, got a boolean"),
    ],
)
def test_bad_settings_name_the_key_and_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw, "config.toml", env={})
    assert message in str(error.value)


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[database\nurl = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: .*line 1"):
        load_config(path, env={})


def test_missing_named_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_every_setting_is_documented() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, settings in SETTINGS.items():
        assert f"## [{section}]" in reference
        for key in settings:
            assert f"| `{key}` |" in reference, f"[{section}].{key} is not in docs/configuration.md"
    for key in DEPARTMENT_SETTINGS:
        assert f"| `{key}` |" in reference


def test_cli_reports_a_broken_config_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = tmp_path / "config.toml"
    path.write_text('[classifier]\nthreshold = "x"\n', encoding="utf-8")
    assert main(["--config", str(path), "db", "check"]) == 2
    assert "threshold: expected float or int" in capsys.readouterr().err


def test_run_without_token_says_which_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n', encoding="utf-8")
    assert main(["--config", str(path), "run"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_run_on_an_empty_database_names_the_upgrade_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n', encoding="utf-8")
    assert main(["--config", str(path), "run"]) == 2
    assert "feedbot db upgrade" in capsys.readouterr().err


def test_run_with_unreachable_database_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    )
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the database" in err and "secret" not in err


def test_run_without_a_model_names_the_rebuild_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    database = f"sqlite:///{tmp_path}/x.db"
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database}"\n[classifier]\nmodels_dir = "{tmp_path}/models"\n', encoding="utf-8"
    )
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    assert main(["--config", str(path), "run"]) == 2
    assert "feedbot train" in capsys.readouterr().err
