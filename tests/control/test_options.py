"""The serve options of the control plane."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.command.cli import build_parser
from mockserver.control import FaultRule
from mockserver.control.options import control_settings
from mockserver.control.paths import PathPattern
from mockserver.edge.origins import LOCALHOST_ORIGINS


def _settings(*argv: str) -> dict[str, object]:
    return control_settings(build_parser().parse_args(["serve", *argv]))


def test_by_default_the_control_plane_is_off_and_localhost_may_call() -> None:
    settings = _settings()
    assert settings["control"] is False
    assert settings["faults"] == ()
    assert settings["cors"].origin_regex == LOCALHOST_ORIGINS  # type: ignore[attr-defined]


def test_latency_is_a_rule_matching_everything() -> None:
    assert _settings("--latency", "40")["faults"] == (FaultRule(latency_ms=40),)


def test_fault_rules_load_from_a_start_up_file(tmp_path: Path) -> None:
    file = tmp_path / "faults.yaml"
    file.write_text("faults:\n  - {method: POST, path: '/chats/{chat}/messages', status: 503, times: 2}\n")

    rules = _settings("--faults", str(file), "--latency", "5")["faults"]

    assert rules == (
        FaultRule(latency_ms=5),
        FaultRule(method="POST", path=PathPattern("/chats/{chat}/messages"), status=503, times=2),
    )


def test_a_bad_rule_in_the_file_says_which(tmp_path: Path) -> None:
    file = tmp_path / "faults.json"
    file.write_text('[{"latency_ms": 1}, {"status": 200}]')
    with pytest.raises(ValueError, match="rule 2: status must be an error status"):
        _settings("--faults", str(file))


def test_control_without_a_token_is_refused_on_a_public_host() -> None:
    with pytest.raises(ValueError, match="--control-token"):
        _settings("--control", "--host", "0.0.0.0")
    assert _settings("--control", "--host", "0.0.0.0", "--control-token", "t")["control"] is True
    assert _settings("--control", "--host", "::1")["control"] is True


def test_a_cors_origin_replaces_the_default() -> None:
    cors = _settings("--cors-origin", "https://app.example")["cors"]
    assert cors.allows("https://app.example")  # type: ignore[attr-defined]
    assert not cors.allows("http://localhost:3000")  # type: ignore[attr-defined]


def test_a_path_pattern_matches_segments_as_the_document_writes_them() -> None:
    pattern = PathPattern("/chats/{chat}/messages")
    assert pattern.matches("/api/v2/chats/abc/messages")
    assert not pattern.matches("/api/v2/chats/abc/def/messages")
    assert not pattern.matches("/api/v2/chats")
    assert PathPattern("/api/v2/ui/**").matches("/api/v2/ui/swagger-ui.css")
