"""Every command of the README works as written, on a copy of the checkout as a fresh clone has it.

The README's `sh` blocks run in order in one bash session (so `TOKEN`, `BASE`, `CHAT` carry from
block to block, as in a reader's terminal), under `set -euo pipefail`, with `curl` failing on an
HTTP error answer (`--fail-with-body`). Other fences (`text`, `yaml`, `python`) are never run. A
note on the line before a fence changes how an `sh` block runs:
- `<!-- readme: serves PORT -->`: the block starts a server; it runs in the background, the session
  waits until PORT listens, and stops it when another block serves on PORT, or at the end;
- `<!-- readme: skip REASON -->`: the block is not run, for the reason given.

The session runs in network and PID namespaces of its own (unshare), so the README's fixed ports
(8080 ...) are free whatever else runs on this machine, and nothing it starts outlives it. The copy's
`.venv` is this venv (built already: the test never builds one), except that `schemathesis run`
and `chats-mock verify` get `--max-examples 5`, the one change to what the README says: their
full runs take a minute each.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout_copy import copy_checkout
from tests.readme_blocks import Block, code_blocks

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SERVES = re.compile(r"serves (\d+)")
SKIP = re.compile(r"skip \S.*")
# Tools of the clone's .venv that the test cuts short: (tool, its subcommand, what is added).
CUT_SHORT = (("schemathesis", "run", "--max-examples 5"), ("chats-mock", "verify", "--max-examples 5"))
# What the session does before the README: loopback up, servers stopped at exit, failures located.
PRELUDE = """\
set -Eeuo pipefail
ip link set lo up
declare -A __servers=()
__line=0
__stop() {
  kill -TERM -- "-${__servers[$1]}" 2>/dev/null || true
  wait "${__servers[$1]}" 2>/dev/null || true
  unset "__servers[$1]"
}
__stop_all() { local port; for port in "${!__servers[@]}"; do __stop "$port"; done; }
trap __stop_all EXIT
trap 'echo "README.md line $__line: failed: $BASH_COMMAND" >&2' ERR
curl() { command curl --fail-with-body --no-progress-meter "$@"; }
__serve() {  # PORT FILE: run FILE in the background until PORT listens (60 s at most)
  if [[ -v "__servers[$1]" ]]; then
    __stop "$1"
    # The stopped server may still drain its connections: the port is free only once it is gone.
    local gone
    for gone in $(seq 300); do
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then break; fi
      sleep 0.1
    done
  fi
  setsid bash "$2" >"$2.log" 2>&1 </dev/null &
  __servers[$1]=$!
  local tries
  for tries in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "${__servers[$1]}" 2>/dev/null; then
      echo "README.md line $__line: the server exited before listening on $1:" >&2
      cat "$2.log" >&2
      return 1
    fi
    sleep 0.1  # a real process binding a port: nothing to wait on but the port itself
  done
  echo "README.md line $__line: nothing listens on $1 after 60 s" >&2
  return 1
}
"""


def _sh_blocks() -> list[Block]:
    return [block for block in code_blocks(README.read_text(encoding="utf-8")) if block.language == "sh"]


def test_readme_shell_blocks_say_sh_and_carry_known_notes() -> None:
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    # A `bash` or `console` fence would silently escape the test: commands are `sh`, output `text`.
    assert [b.line for b in blocks if b.language in {"bash", "shell", "console", "zsh", ""}] == []
    unknown = [b.line for b in blocks if b.note and not (SERVES.fullmatch(b.note) or SKIP.fullmatch(b.note))]
    assert unknown == []
    assert [b.line for b in blocks if b.note and b.language != "sh"] == []


def _clone_venv(clone: Path) -> None:
    """The clone's .venv: this one, built (its stamp newer than pyproject.toml), some tools cut short."""
    real = Path(sys.prefix)
    venv = clone / ".venv"
    (venv / "bin").mkdir(parents=True)
    for entry in real.iterdir():
        if entry.name not in {"bin", ".installed"}:
            (venv / entry.name).symlink_to(entry)
    for tool in (real / "bin").iterdir():
        (venv / "bin" / tool.name).symlink_to(tool)
    for tool, subcommand, added in CUT_SHORT:
        wrapper = venv / "bin" / tool
        wrapper.unlink()
        real_tool = shlex.quote(str(real / "bin" / tool))
        wrapper.write_text(
            "#!/bin/sh\n# The README test's: fewer generated cases than the README's run.\n"
            # The subcommand may follow global options (`schemathesis --config-file F run ...`).
            f'for arg in "$@"; do if [ "$arg" = {subcommand} ]; then exec {real_tool} "$@" {added}; fi; done\n'
            f'exec {real_tool} "$@"\n'
        )
        wrapper.chmod(0o755)
    (venv / ".installed").touch()  # make serve: the venv is built


def _session(clone: Path, blocks: list[Block]) -> Path:
    """The bash script that runs the blocks in order, each from a file of its own."""
    parts = [PRELUDE]
    for block in blocks:
        if SKIP.fullmatch(block.note):
            continue
        file = clone / f".readme-block-{block.line}.sh"
        file.write_text(block.code)
        serves = SERVES.fullmatch(block.note)
        run = f"__serve {serves.group(1)} {file.name}" if serves else f"source {file.name}"
        parts.append(f"__line={block.line}\n{run}\n")
    script = clone / ".readme-session.sh"
    script.write_text("".join(parts))
    return script


def _namespaces() -> list[str]:
    """unshare's command for fresh network and PID namespaces, or a skip saying why there are none."""
    command = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"]
    try:
        probe = subprocess.run([*command, "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    except FileNotFoundError as error:
        pytest.skip(
            f"README commands not run: no unshare ({error}); the README's ports need a network of their own"
        )
    if probe.returncode != 0:
        pytest.skip(f"README commands not run: no network namespace here ({probe.stderr.strip()})")
    return command


@pytest.mark.slow  # ~30 CPU-seconds in one test: CI runs it in its own step (make test-slow)
def test_every_readme_command_works_as_written(tmp_path: Path) -> None:
    unshare = _namespaces()
    clone = copy_checkout(ROOT, tmp_path / "clone")
    _clone_venv(clone)
    blocks = _sh_blocks()
    script = _session(clone, blocks)
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    # A reader's PATH has no venv on it: the README names .venv/bin/... where it means it.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    done = subprocess.run(
        [*unshare, "bash", script.name],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ran = [block.line for block in blocks if not SKIP.fullmatch(block.note)]
    assert done.returncode == 0, (
        f"README sh blocks at lines {ran}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    assert len(ran) >= 8  # the README's commands did run: set-up, the four examples, spec, fixtures, verify


def test_the_first_screen_names_both_generations_and_leads_a_ui_for_todays_coder_to_its_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_screen = "\n".join(text.splitlines()[:50])
    assert "a UI for today's Coder wants today's" in first_screen
    for command in (
        'make serve ARGS="--api current"',
        "make serve`",
        "chats-mock verify --api current",
        "chats-mock verify --base-url",
    ):
        assert command in first_screen, command
    for document in ("openapi/current/chats.yaml", "openapi/chats.yaml"):
        assert document in first_screen, document


def test_a_fresh_machine_needs_two_set_up_commands_and_today_s_api_is_an_option() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [block.code.split("#")[0].strip() for block in code_blocks(section) if block.language == "sh"]
    # The two set-up commands (serve on the default, the tests), then the option for today's API.
    assert commands[:2] == ["make serve", "make test"]
    assert commands[2] == 'make serve ARGS="--api current --port 8082"'
