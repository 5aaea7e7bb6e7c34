"""Agent scenarios as data: YAML files, each a named sequence of steps the fake agent plays.

A scenario file (the README's "Scenarios" section is the full reference):

    description: Two tool calls over two steps, then an answer.
    match:                      # optional: rules that pick this scenario for a message
      - regex: '^/tool-use\\b'
      - text: list the files
      - metadata: {scenario: tools}
    steps:
      - reasoning: I should look at the files first.
      - tool_call: {name: list_files, args: {path: .}, result: [README.md], delay: 0.3}
      - tool_call: {name: ask_user, args: {question: Which?}, client: true}  # the client runs it
      - usage: {prompt_tokens: 812, completion_tokens: 41}     # closes a model step
      - retry: {message: "anthropic: 529 Overloaded", kind: overloaded, status_code: 529, delay: 1}
      - text: [The build fails, " because..."]                  # chunks, streamed live
        every: 0.05
      - finish: stop                                            # or fail: {code, message}

The loader reads YAML nodes, not values, so that every refusal names the file, the line and
what is wrong (`ScenarioError`).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BUILTIN_PACKAGE",
    "DEFAULT_SCENARIO",
    "ERROR_KINDS",
    "METADATA_KEY",
    "RETRY_KINDS",
    "Delay",
    "ErrorCode",
    "Fail",
    "Finish",
    "FinishReason",
    "MetadataIs",
    "Reasoning",
    "Retry",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScenarioLibrary",
    "Step",
    "Text",
    "TextIs",
    "TextMatches",
    "ToolCall",
    "Usage",
    "fill_text",
    "load_scenario",
]

# The package directory holding the built-in library, one `<name>.yaml` per scenario.
BUILTIN_PACKAGE = "scenario_library"
# The scenario a message gets when nothing else picks one.
DEFAULT_SCENARIO = "echo"
# The chat metadata key that names a scenario outright.
METADATA_KEY = "scenario"
# The placeholder in a scenario's strings that becomes the posted message's text.
TEXT_PLACEHOLDER = "{text}"


def fill_text(value: Any, text: str) -> Any:
    """`{text}` in every string of a JSON value replaced by the posted message's text."""
    if isinstance(value, str):
        return value.replace(TEXT_PLACEHOLDER, text)
    if isinstance(value, list):
        return [fill_text(item, text) for item in value]
    if isinstance(value, dict):
        return {key: fill_text(item, text) for key, item in value.items()}
    return value


class FinishReason(enum.Enum):
    """Why a run ended (`run_finished.finish_reason`)."""

    STOP = "stop"  # the model finished its answer
    LENGTH = "length"  # the answer was cut off at the token limit
    TOOL_CALLS = "tool-calls"  # the run stopped while the model still asked for tools
    ERROR = "error"  # the run failed (written after an `error` event)


class ErrorCode(enum.Enum):
    """The `code` of an `error` stream event (WIRE.md section 4)."""

    LLM_INIT_FAILED = "llm_init_failed"  # the model could not be set up
    UPSTREAM_ERROR = "upstream_error"  # the model provider refused or failed
    STREAM_ERROR = "stream_error"  # the provider's stream broke off


class ScenarioError(ValueError):
    """A scenario file the mock refuses: where (file, line) and what is wrong."""

    def __init__(self, file: str, line: int, problem: str) -> None:
        super().__init__(f"{file}:{line}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Text:
    """Assistant text, written in `chunks` (joined in the stored message), `every` seconds apart."""

    chunks: tuple[str, ...]
    every: float = 0.0


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The model's reasoning, in chunks like `Text`."""

    chunks: tuple[str, ...]
    every: float = 0.0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call and what it gave back (`result`, or `error`); the tool runs `delay` seconds.

    A `client` tool is run by the client, not the mock: the step ends waiting for its result
    (today's API: `requires_action` until `POST .../tool-results`; V1: the run stops).
    """

    name: str
    args: Any
    result: Any = None
    error: str | None = None
    delay: float = 0.0
    duration_ms: int | None = None  # None: `delay` in milliseconds
    id: str | None = None  # None: derived from the run id
    client: bool = False


# Every ChatError kind of today's Coder (codersdk `ChatErrorKind`), for a `fail` step.
ERROR_KINDS = (
    "generic",
    "overloaded",
    "rate_limit",
    "timeout",
    "stream_silence_timeout",
    "auth",
    "config",
    "usage_limit",
    "missing_key",
    "provider_disabled",
    "content_filter",
    "hook_dispatch_failed",
    "hook_denied",
)
# The kinds a provider failure that is retried may have.
RETRY_KINDS = ERROR_KINDS[:5]


@dataclass(frozen=True, slots=True)
class Retry:
    """The model call fails and is retried after `delay` seconds; the open step starts again.

    What the failed attempt streamed of the open step is dropped (a new generation attempt).
    """

    message: str
    delay: float
    kind: str = "generic"
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token figures of the current model step; writing them closes the step."""

    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class Delay:
    """Nothing happens for `seconds`."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Fail:
    """The run fails: an `error` event, then `run_finished` with `finish_reason: error`.

    `kind` and `status_code` are today's ChatError's (None: the kind follows from `code`);
    the seed's API has neither.
    """

    code: ErrorCode
    message: str
    retryable: bool | None = None
    kind: str | None = None
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """The run ends normally with this reason."""

    reason: FinishReason


Step = Text | Reasoning | ToolCall | Usage | Delay | Retry | Fail | Finish


@dataclass(frozen=True, slots=True)
class TextIs:
    """The message text is exactly `text`."""

    text: str

    def matches(self, text: str, metadata: Any) -> bool:
        """Whether the rule picks a message."""
        return text == self.text


@dataclass(frozen=True, slots=True)
class TextMatches:
    """The message text matches `pattern` (re.search)."""

    pattern: re.Pattern[str]

    def matches(self, text: str, metadata: Any) -> bool:
        """Whether the rule picks a message."""
        return self.pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class MetadataIs:
    """The chat's metadata is an object whose `key` equals `value`."""

    key: str
    value: Any

    def matches(self, text: str, metadata: Any) -> bool:
        """Whether the rule picks a message."""
        return isinstance(metadata, dict) and self.key in metadata and metadata[self.key] == self.value


Rule = TextIs | TextMatches | MetadataIs


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named agent run: its steps, and the rules that pick it."""

    name: str
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...] = ()
    description: str = ""
    source: str = ""  # the file it came from, for messages

    @property
    def duration(self) -> float:
        """Seconds the run takes at speed 1, from the post to its end (a client's tool time excluded)."""
        total = 0.0
        for step in self.steps:
            match step:
                case Delay(seconds=seconds) | Retry(delay=seconds):
                    total += seconds
                case ToolCall(delay=delay):
                    total += delay
                case Text(chunks=chunks, every=every) | Reasoning(chunks=chunks, every=every):
                    total += every * len(chunks)
        return total


class ScenarioLibrary:
    """Scenarios by name, and the order their rules are tried in."""

    def __init__(self, scenarios: Iterable[Scenario], default: str = DEFAULT_SCENARIO) -> None:
        self._by_name: dict[str, Scenario] = {}
        for scenario in scenarios:
            self._by_name[scenario.name] = scenario
        if default not in self._by_name:
            raise ValueError(f"no default scenario {default!r} among {sorted(self._by_name)}")
        self._default = default
        # Every rule with its scenario, in the order select tries them (once per posted message).
        self._rules = tuple(
            (rule, scenario) for scenario in self._by_name.values() for rule in scenario.rules
        )
        self._any_rule = _union_of_patterns([rule for rule, _ in self._rules])

    @classmethod
    def builtin(cls) -> ScenarioLibrary:
        """The library shipped with the mock."""
        folder = resources.files("mockserver.core") / BUILTIN_PACKAGE
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
        return cls(
            load_scenario(f.read_text(encoding="utf-8"), source=f"<builtin>/{f.name}", name=f.name[:-5])
            for f in files
        )

    def with_directory(self, directory: Path) -> ScenarioLibrary:
        """This library plus every `*.yaml`/`*.yml` of `directory`, which win over same-named ones.

        Raises ScenarioError for the first malformed file, and for two files of one name.
        """
        if not directory.is_dir():
            raise ScenarioError(str(directory), 0, "not a directory")
        added: dict[str, Scenario] = {}
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            scenario = load_scenario(path.read_text(encoding="utf-8"), source=str(path), name=path.stem)
            if scenario.name in added:
                raise ScenarioError(
                    str(path),
                    1,
                    f"scenario {scenario.name!r} is also defined in {added[scenario.name].source}",
                )
            added[scenario.name] = scenario
        kept = [s for name, s in self._by_name.items() if name not in added]
        return ScenarioLibrary([*added.values(), *kept], self._default)

    @property
    def names(self) -> tuple[str, ...]:
        """Every scenario's name, in rule order."""
        return tuple(self._by_name)

    def __getitem__(self, name: str) -> Scenario:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def select(self, text: str, metadata: Any) -> Scenario:
        """The scenario for a message: metadata `scenario`, else the first rule to match, else echo.

        A `scenario` that names no scenario gives a run that fails with `llm_init_failed`,
        so that a misspelt name shows in the transcript rather than silently echoing.
        """
        if isinstance(metadata, dict) and METADATA_KEY in metadata:
            name = metadata[METADATA_KEY]
            if isinstance(name, str) and name in self._by_name:
                return self._by_name[name]
            return _unknown_scenario(name, self.names)
        if self._any_rule is None or self._any_rule.search(text) is not None:
            for rule, scenario in self._rules:
                if rule.matches(text, metadata):
                    return scenario
        return self._by_name[self._default]


def _union_of_patterns(rules: Sequence[Rule]) -> re.Pattern[str] | None:
    """One regex that finds a match in a text exactly when one of `rules` would, or None.

    Most messages match no rule (the built-in ones want a leading `/name`): one search of the
    union tells so in ~0.1 µs, where trying the rules one by one costs ~1.2 µs a post. Made only
    when every rule is a regex the union keeps as it is: no groups (their numbers would shift)
    and no flags set for the whole pattern (they may not stand inside the union); else None and
    the rules are tried one by one as before.
    """
    if not rules or not all(isinstance(rule, TextMatches) for rule in rules):
        return None
    patterns = [rule.pattern for rule in rules if isinstance(rule, TextMatches)]
    if any(pattern.groups or pattern.flags != re.UNICODE for pattern in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))
    except re.error:
        return None


def _unknown_scenario(name: Any, known: Sequence[str]) -> Scenario:
    message = f"chats-mock: no scenario named {name!r}; known: {', '.join(sorted(known))}"
    return Scenario(name="(unknown)", steps=(Fail(ErrorCode.LLM_INIT_FAILED, message, retryable=False),))


# --- loading -----------------------------------------------------------------------------------


class _Reader:
    """Turns YAML nodes into values, naming the file and line of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._constructor = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, problem: str) -> ScenarioError:
        return ScenarioError(self.source, node.start_mark.line + 1, problem)

    def mapping(self, node: yaml.Node, what: str, allowed: Iterable[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        fields: dict[str, yaml.Node] = {}
        allowed = tuple(allowed)
        for key, value in node.value:
            name = self.value(key)
            if not isinstance(name, str) or name not in allowed:
                raise self.fail(key, f"unknown key {name!r} in {what}; expected one of: {', '.join(allowed)}")
            if name in fields:
                raise self.fail(key, f"duplicate key {name!r} in {what}")
            fields[name] = value
        return fields

    def value(self, node: yaml.Node) -> Any:
        """Any JSON value (tool arguments and results)."""
        value = self._constructor.construct_object(node, deep=True)
        self._check_json(node, value)
        return value

    def _check_json(self, node: yaml.Node, value: Any) -> None:
        if value is None or isinstance(value, str | bool | int):
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(node, "numbers must be finite (JSON has no NaN or infinity)")
            return
        if isinstance(value, list):
            for item in value:
                self._check_json(node, item)
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise self.fail(node, f"object keys must be strings, not {key!r}")
                self._check_json(node, item)
            return
        raise self.fail(node, f"{value!r} is not a JSON value (quote it to make it a string)")

    def string(self, node: yaml.Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            raise self.fail(node, f"{what} must be a string")
        return value

    def chunks(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        value = self.value(node)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and value and all(isinstance(chunk, str) for chunk in value):
            return tuple(value)
        raise self.fail(node, f"{what} must be a string or a non-empty list of strings")

    def seconds(self, node: yaml.Node, what: str) -> float:
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(node, f"{what} must be a number of seconds >= 0")
        return float(value)

    def count(self, node: yaml.Node, what: str, *, nullable: bool = False) -> int | None:
        value = self.value(node)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(node, f"{what} must be an integer >= 0" + (" or null" if nullable else ""))
        return value

    def enum(self, node: yaml.Node, kind: type[enum.Enum], what: str) -> Any:
        value = self.value(node)
        for member in kind:
            if member.value == value:
                return member
        choices = ", ".join(str(m.value) for m in kind)
        raise self.fail(node, f"{what} must be one of: {choices} (got {value!r})")


_STEP_KINDS = ("text", "reasoning", "tool_call", "usage", "delay", "retry", "fail", "finish")
_STEP_MODIFIERS = {"text": ("every",), "reasoning": ("every",)}
_TOOL_KEYS = ("name", "args", "result", "error", "delay", "duration_ms", "id", "client")
_RETRY_KEYS = ("message", "kind", "status_code", "delay")


def load_scenario(text: str, *, source: str, name: str) -> Scenario:
    """Parse one scenario file; `name` is used unless the file sets `name`. Raises ScenarioError."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError(source, line, f"not valid YAML: {error.problem or error}") from None
    reader = _Reader(source)
    if root is None:
        raise ScenarioError(source, 1, "the file is empty; a scenario needs `steps`")
    fields = reader.mapping(root, "a scenario", ("name", "description", "match", "steps"))
    if "steps" not in fields:
        raise reader.fail(root, "a scenario needs `steps`")
    if "name" in fields:
        name = reader.string(fields["name"], "name")
    if not name:
        raise reader.fail(fields.get("name", root), "a scenario's name must not be empty")
    description = reader.string(fields["description"], "description") if "description" in fields else ""
    rules = _rules(reader, fields["match"]) if "match" in fields else ()
    return Scenario(
        name=name,
        steps=_steps(reader, fields["steps"]),
        rules=rules,
        description=description,
        source=source,
    )


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text`, by libyaml when PyYAML has it (~10x faster: the built-in
    library is read at every start); a file it refuses is read again by PyYAML's own parser,
    whose message and line the error then gives."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
        else:
            return node
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _rules(reader: _Reader, node: yaml.Node) -> tuple[Rule, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, "match must be a list of rules (text, regex or metadata)")
    rules: list[Rule] = []
    for item in node.value:
        fields = reader.mapping(item, "a match rule", ("text", "regex", "metadata"))
        if len(fields) != 1:
            raise reader.fail(item, "a match rule has exactly one of: text, regex, metadata")
        ((kind, value),) = fields.items()
        if kind == "text":
            rules.append(TextIs(reader.string(value, "text")))
        elif kind == "regex":
            pattern = reader.string(value, "regex")
            try:
                rules.append(TextMatches(re.compile(pattern)))
            except re.error as error:
                raise reader.fail(value, f"regex {pattern!r} does not compile: {error}") from None
        else:
            wanted = reader.value(value)
            if not isinstance(wanted, dict) or len(wanted) != 1:
                raise reader.fail(value, "metadata must be a mapping of one key to the value it must equal")
            ((key, expected),) = wanted.items()
            rules.append(MetadataIs(key, expected))
    return tuple(rules)


def _steps(reader: _Reader, node: yaml.Node) -> tuple[Step, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(node, "steps must be a non-empty list")
    steps: list[Step] = []
    for item in node.value:
        if steps and isinstance(steps[-1], Fail | Finish):
            raise reader.fail(item, "nothing may follow `finish` or `fail`: the run has ended")
        steps.append(_step(reader, item))
    return tuple(steps)


def _step(reader: _Reader, node: yaml.Node) -> Step:
    if not isinstance(node, yaml.MappingNode):
        raise reader.fail(node, f"a step must be a mapping with one of: {', '.join(_STEP_KINDS)}")
    keys = [reader.value(key) for key, _ in node.value]
    kinds = [key for key in keys if key in _STEP_KINDS]
    if len(kinds) != 1:
        found = ", ".join(map(str, kinds)) or "none"
        raise reader.fail(node, f"a step has exactly one of: {', '.join(_STEP_KINDS)} (found: {found})")
    kind = kinds[0]
    fields = reader.mapping(node, f"a {kind} step", (kind, *_STEP_MODIFIERS.get(kind, ())))
    value = fields[kind]
    match kind:
        case "text" | "reasoning":
            every = reader.seconds(fields["every"], "every") if "every" in fields else 0.0
            chunks = reader.chunks(value, kind)
            return Text(chunks, every) if kind == "text" else Reasoning(chunks, every)
        case "tool_call":
            return _tool_call(reader, value)
        case "usage":
            usage = reader.mapping(value, "usage", ("prompt_tokens", "completion_tokens"))
            return Usage(
                *(
                    reader.count(usage[key], key, nullable=True) if key in usage else None
                    for key in ("prompt_tokens", "completion_tokens")
                )
            )
        case "delay":
            return Delay(reader.seconds(value, "delay"))
        case "retry":
            return _retry(reader, value)
        case "fail":
            fail = reader.mapping(value, "fail", ("code", "message", "retryable", "kind", "status_code"))
            if "code" not in fail or "message" not in fail:
                raise reader.fail(value, "fail needs `code` and `message`")
            retryable = reader.value(fail["retryable"]) if "retryable" in fail else None
            if retryable is not None and not isinstance(retryable, bool):
                raise reader.fail(fail["retryable"], "retryable must be true or false")
            kind = reader.string(fail["kind"], "kind") if "kind" in fail else None
            if kind is not None and kind not in ERROR_KINDS:
                raise reader.fail(
                    fail["kind"], f"kind must be one of: {', '.join(ERROR_KINDS)} (got {kind!r})"
                )
            return Fail(
                reader.enum(fail["code"], ErrorCode, "code"),
                reader.string(fail["message"], "message"),
                retryable,
                kind=kind,
                status_code=reader.count(fail["status_code"], "status_code")
                if "status_code" in fail
                else None,
            )
        case _:
            reason = reader.enum(value, FinishReason, "finish")
            if reason is FinishReason.ERROR:
                raise reader.fail(value, "finish: error is written by `fail: {code, message}`")
            return Finish(reason)


def _tool_call(reader: _Reader, node: yaml.Node) -> ToolCall:
    fields = reader.mapping(node, "tool_call", _TOOL_KEYS)
    if "name" not in fields:
        raise reader.fail(node, "tool_call needs `name`")
    if "result" in fields and "error" in fields:
        raise reader.fail(node, "tool_call has `result` or `error`, not both")
    duration = reader.count(fields["duration_ms"], "duration_ms") if "duration_ms" in fields else None
    client = reader.value(fields["client"]) if "client" in fields else False
    if not isinstance(client, bool):
        raise reader.fail(fields["client"], "client must be true or false")
    if client:
        server_only = [key for key in ("result", "error", "delay", "duration_ms") if key in fields]
        if server_only:
            raise reader.fail(
                node,
                f"a client tool_call has no {', '.join(server_only)}: the client runs it and sends its result",
            )
    return ToolCall(
        name=reader.string(fields["name"], "name"),
        args=reader.value(fields["args"]) if "args" in fields else {},
        result=reader.value(fields["result"]) if "result" in fields else None,
        error=reader.string(fields["error"], "error") if "error" in fields else None,
        delay=reader.seconds(fields["delay"], "delay") if "delay" in fields else 0.0,
        duration_ms=duration,
        id=reader.string(fields["id"], "id") if "id" in fields else None,
        client=client,
    )


def _retry(reader: _Reader, node: yaml.Node) -> Retry:
    fields = reader.mapping(node, "retry", _RETRY_KEYS)
    if "message" not in fields:
        raise reader.fail(node, "retry needs `message` (the error of the failed attempt)")
    kind = reader.string(fields["kind"], "kind") if "kind" in fields else "generic"
    if kind not in RETRY_KINDS:
        raise reader.fail(fields["kind"], f"kind must be one of: {', '.join(RETRY_KINDS)} (got {kind!r})")
    status_code = reader.count(fields["status_code"], "status_code") if "status_code" in fields else None
    return Retry(
        message=reader.string(fields["message"], "message"),
        delay=reader.seconds(fields["delay"], "delay") if "delay" in fields else 1.0,
        kind=kind,
        status_code=status_code,
    )
