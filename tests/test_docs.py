"""The docs stay true: every command, setting and channel is in the README."""

from __future__ import annotations

from pathlib import Path

from houqin.cli.root import COMMANDS
from houqin.settings import Settings
from notifications.channels import CHANNELS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for name in COMMANDS:
        assert f"houqin {name}" in README, name


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"HOUQIN_{name.upper()}" in README, name


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_every_channel_has_a_row_in_the_readme() -> None:
    for name in CHANNELS:
        assert f"| `{name}`" in README, name


def test_the_readme_starts_with_the_two_commands() -> None:
    two = README.index("## Two commands")
    assert two < README.index("## How it works")
    assert "make demo" in README[two : two + 400] and "make test" in README[two : two + 600]
