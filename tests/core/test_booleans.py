"""One boolean vocabulary: settings, command-line flags (Argo parameters arrive as flags) and
SQL Server URL options read every word the same way."""

from __future__ import annotations

import argparse

import pytest

from deltastore.booleans import FALSE_WORDS, TRUE_WORDS
from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.workflows.cli import add_bool_flag

URL = "mssql://u@db.example/w?trust_server_certificate="


def _flag(value: str) -> bool:
    parser = argparse.ArgumentParser()
    add_bool_flag(parser, "--force", "help")
    return bool(parser.parse_args([f"--force={value}"]).force)


@pytest.mark.parametrize("word", [*TRUE_WORDS, *FALSE_WORDS, "TRUE", " Off "])
def test_every_reader_takes_the_same_words(word: str) -> None:
    meaning = word.strip().lower() in TRUE_WORDS
    settings = Settings.from_env({"DELTASTORE_WAREHOUSE_COLUMNSTORE": word,
                                  "DELTASTORE_WAREHOUSE_URL": URL + word.strip()})
    assert settings.warehouse_columnstore is meaning
    assert settings.warehouse_url.option("trust_server_certificate") == (
        "yes" if meaning else "no")
    assert _flag(word) is meaning


def test_other_words_are_refused_by_each_reader_with_the_vocabulary() -> None:
    with pytest.raises(ConfigError, match="DELTASTORE_WAREHOUSE_COLUMNSTORE: `maybe` is not "
                                          "valid: write `true` or `false`"):
        Settings.from_env({"DELTASTORE_WAREHOUSE_COLUMNSTORE": "maybe"})
    with pytest.raises(ConfigError, match="use `yes`, `no` \\(yes and no may also"):
        Settings.from_env({"DELTASTORE_WAREHOUSE_URL": URL + "maybe"})
    with pytest.raises(SystemExit):
        _flag("maybe")


def test_a_flag_alone_or_left_blank_by_argo() -> None:
    parser = argparse.ArgumentParser()
    add_bool_flag(parser, "--force", "help")
    assert parser.parse_args(["--force"]).force is True
    assert parser.parse_args(["--force="]).force is False
    assert parser.parse_args([]).force is False
