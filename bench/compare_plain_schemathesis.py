"""Which planted bugs plain `schemathesis run` misses and `chats-mock verify` catches.

For each correct server (tests/correct_variants.py: the unmodified mock, an independent one, one
adding unknown fields everywhere, a slow agent, Go-shaped JSON) and each planted-bug variant
(tests/planted_bugs.py), serve it over
HTTP on a free port, run the plain Schemathesis CLI on the document (auth header, all checks,
positive and negative data, every phase including stateful) and `chats-mock verify`, and print
the README's Markdown table. Run from the repository root:

    python bench/compare_plain_schemathesis.py [--max-examples N] [--seed N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import coder_chats_openapi

from mockserver import DEMO_TOKENS
from mockserver.command.cli import main as chats_mock
from tests.correct_variants import CORRECT_VARIANTS
from tests.http_server import serving
from tests.planted_bugs import VARIANTS

ALICE, BOB = DEMO_TOKENS["alice"], DEMO_TOKENS["bob"]


def plain_schemathesis(url: str, token: str, *, max_examples: int, seed: int) -> tuple[bool, str]:
    """(caught, the failing check names) of one plain `schemathesis run`."""
    executable = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    with tempfile.TemporaryDirectory() as cwd:  # the CLI writes .hypothesis/ and .schemathesis/ here
        result = subprocess.run(
            [
                executable, "run", str(coder_chats_openapi.document()),
                "--url", f"{url}/api/v2",
                "--header", f"Coder-Session-Token: {token}",
                "--checks", "all",
                "--mode", "all",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--max-examples", str(max_examples),
                "--seed", str(seed),
                "--workers", "1",
                "--generation-with-security-parameters", "false",
                "--no-color",
            ],
            cwd=cwd, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
    return result.returncode != 0, ", ".join(_failure_titles(result.stdout))


def _failure_titles(output: str) -> list[str]:
    """The lines of the summary's `Failures:` block, e.g. `ST108 Response violates schema`."""
    titles: list[str] = []
    lines = iter(output.splitlines())
    for line in lines:
        if line.strip() == "Failures:":
            for item in lines:
                if not item.startswith("  "):
                    break
                titles.append(item.strip().lstrip("❌ ").rsplit(":", 1)[0])
    return titles


def verify(url: str, tokens: tuple[str, str], *, max_examples: int, seed: int) -> tuple[bool, str]:
    """(caught, the violated rules) of one `chats-mock verify`."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = chats_mock(
            ["verify", "--base-url", url, "--token", tokens[0], "--token", tokens[1], "--seed", str(seed),
             "--max-examples", str(max_examples), "--expect-agent", "10"]
        )  # fmt: skip
    first = out.getvalue().splitlines()[0]
    # The violated rules, without the verdict's count of rules exercised.
    return code == 1, re.sub(
        r" \(\d+ of \d+ rules exercised\)$", "", first.partition("contract: ")[2]
    ) if code == 1 else first


def main() -> int:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = [(f"(correct) {v.name}", "-", v.build, v.tokens) for v in CORRECT_VARIANTS] + [
        (v.name, " / ".join(v.rules), v.build, (ALICE, BOB)) for v in VARIANTS
    ]
    print("| variant | rule it breaks | plain schemathesis catches? | verify catches? |")
    print("|---|---|---|---|")
    started = time.monotonic()
    caught = false_positives = 0
    for name, rules, build, tokens in rows:
        with serving(build()) as url:
            plain, plain_checks = plain_schemathesis(
                url, tokens[0], max_examples=args.max_examples, seed=args.seed
            )
        with serving(build()) as url:
            ours, our_rules = verify(url, tokens, max_examples=args.max_examples, seed=args.seed)
        if rules == "-":
            false_positives += ours
        else:
            caught += ours
        plain_cell = f"yes ({plain_checks})" if plain else "no"
        ours_cell = f"yes ({our_rules})" if ours else f"no ({our_rules})"
        print(f"| {name} | {rules} | {plain_cell} | {ours_cell} |", flush=True)
    print(f"\n(seed {args.seed}, --max-examples {args.max_examples}, {time.monotonic() - started:.0f} s)")
    print(
        f"\nverify catches {caught} of {len(VARIANTS)} planted bugs; "
        f"false positives on {false_positives} of {len(CORRECT_VARIANTS)} correct servers."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
