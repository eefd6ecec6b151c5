"""Read a config: YAML files chained by `extends:`, dotted overrides, strict validation.

A scenario file names the file it builds on (`extends: ../footprint.yaml`, relative to the
scenario file) and sets only what it changes. Mappings merge key by key; a list or a value
replaces the one below it. Overrides such as ``{"acute.beds_scale": 0.9}`` (from the
command line or a sweep) are applied last, and the merged result is validated as a whole,
so an override is checked exactly like a value written in a file.

Every problem becomes a `ConfigError` whose message is one line naming the file (and line),
the key path and what was expected, e.g.::

    configs/scenarios/cut.yaml:4: acute.bed_scale: unknown key (did you mean 'beds_scale'?)
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import math
import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from flowsim.config.schema import FlowsimConfig

__all__ = [
    "ConfigError",
    "load_config",
    "parse_overrides",
    "canonical_json",
    "config_hash",
    "config_from_canonical",
    "key_lines",
]

Path_ = tuple[str | int, ...]
EXTENDS = "extends"
# Where a problem that belongs to no file (a config rebuilt from a manifest) is said to be.
CANONICAL_SOURCE = "<canonical config>"

# Limits of what the reader accepts. The footprint is 11 kB, about 800 YAML values and 5
# levels deep; the limits leave room for twenty times that and stop a hostile file (an
# alias bomb, a 10,000-level nesting, a huge file) within a second or two, before it can
# exhaust memory or Python's recursion limit. (The pure-Python reader, needed for these
# checks, takes ~70 microseconds a value.)
MAX_FILE_BYTES = 256_000
MAX_VALUES = 20_000  # YAML values once aliases (*name) are expanded
MAX_DEPTH = 20  # levels of nesting, aliases expanded
MAX_EXTENDS = 32  # files in one `extends:` chain


class ConfigError(Exception):
    """A config that cannot be used; str() is one line: `file[:line]: key.path: problem`.

    `problems` holds every problem found (validation can find several); the message shows
    the first and counts the rest.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or [message]
        extra = len(self.problems) - 1
        if extra > 0:
            message = f"{message} (and {extra} more problem{'s' if extra > 1 else ''})"
        super().__init__(message)


# --------------------------------------------------------------------------------------
# Reading one YAML file


@dataclass
class _Source:
    """One layer of the merged config: a file, or the overrides, with the key paths it sets."""

    label: str
    data: dict[Any, Any]
    lines: dict[Path_, int] = field(default_factory=dict)
    is_override: bool = False

    def where(self, path: Path_) -> str:
        line = self.lines.get(path)
        return f"{self.label}:{line}" if line is not None else self.label


def _display(path: Path) -> str:
    """The path as the user would type it: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _strict_loader() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """PyYAML's safe loader, except that a key given twice is an error, not a silent win,
        nesting is limited, and a value PyYAML cannot convert (an impossible date, an int of
        5,000 digits) is reported where it stands."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._values = 0

        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            # PyYAML composes recursively: stop before Python's recursion limit does.
            self._depth += 1
            self._values += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
                    )
                if self._values > MAX_VALUES:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"more than {MAX_VALUES:,} values; a config has about 1,000",
                        self.peek_event().start_mark,
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_object(self, node, deep=False):  # type: ignore[no-untyped-def]
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, OverflowError) as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, f"cannot read {_short(node.value)}: {exc}", node.start_mark
                ) from None

        def construct_yaml_timestamp(self, node):  # type: ignore[no-untyped-def]
            # An impossible date (2016-02-30) stays text, so the schema can name its key.
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    key = self.construct_object(key_node, deep=True)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r}", key_node.start_mark
                        )
                    try:
                        seen.add(key)
                    except TypeError:  # an unhashable key: let PyYAML report it
                        pass
            return super().construct_mapping(node, deep=deep)

    StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)
    return StrictLoader


def _check_expansion(root: Any) -> None:
    """Refuse a node graph that aliases blow up, or that contains itself.

    Aliases share nodes, so a small file can stand for billions of values (the "billion
    laughs"); everything after the reader (line map, merge, validation) would expand them.
    The walk is iterative and visits each node once, whatever the file.
    """
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the path from the root to the node being walked
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_nodes.discard(key)
            if size[key] > MAX_VALUES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"expands to more than {MAX_VALUES:,} values (aliases repeat what they name)",
                    node.start_mark,
                )
            if depth[key] > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep (aliases expanded)",
                    node.start_mark,
                )
            continue
        if key in size:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for kid in children(node):
            if id(kid) in open_nodes:
                raise yaml.composer.ComposerError(
                    None, None, "an alias names a value that contains it (a loop)", kid.start_mark
                )
            if id(kid) not in size:
                stack.append((kid, False))


def _parse(text: str) -> tuple[Any, Any]:
    """(node tree, data) of one YAML document, read safely; raises yaml.YAMLError."""
    loader = _strict_loader()(text)  # checks for characters YAML does not allow
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _line_map(node: Any, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """The 1-based line of every key path in a composed YAML node tree."""
    import yaml

    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: the schema refuses it anyway
            sub = (*path, key_node.value)
            out[sub] = key_node.start_mark.line + 1
            _line_map(value_node, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _line_map(item, (*path, i), out)
    return out


def _read_yaml(path: Path) -> _Source:
    import yaml

    label = _display(path)
    try:
        # stat first: opening a FIFO would wait for a writer, reading a device never ends.
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{label}: is a folder, expected a YAML config file")
        if not stat.S_ISREG(mode):
            raise ConfigError(
                f"{label}: is not a regular file (a FIFO, device or socket), expected a YAML config file"
            )
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError(f"{label}: larger than {MAX_FILE_BYTES:,} bytes; a config file is a few kB")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror})") from None

    try:
        node, data = _parse(text)
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(text, exc.position)
        raise ConfigError(
            f"{label}:{line}:{column}: YAML syntax error: character U+{exc.character:04X} is not allowed "
            "(a control or non-printable character)"
            if isinstance(exc.character, int)
            else f"{label}: YAML syntax error: {exc.reason}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    except RecursionError:  # a safety net: the depth limit should stop this first
        raise ConfigError(f"{label}: YAML nested too deeply") from None

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: expected a mapping of settings (key: value) at the top level, got {_kind(data)}"
        )
    return _Source(label, data, _line_map(node) if node is not None else {})


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character position in `text`."""
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start + 1


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------------------
# extends: chains and merging


def _read_chain(path: Path) -> list[_Source]:
    """The files of an `extends:` chain, the root base first and `path` last."""
    chain: list[_Source] = []
    seen: list[Path] = []
    if "\0" in str(path):
        raise ConfigError(f"{str(path)!r}: not a valid path (it holds a NUL character)")
    current = path.resolve()
    where = ""  # the `extends:` line that led to `current`
    while True:
        if current in seen:
            loop = [*seen[seen.index(current) :], current]
            common = os.path.commonpath([str(p.parent) for p in loop])
            names = " -> ".join(os.path.relpath(p, common) for p in loop)
            raise ConfigError(f"{where}: extends: cycle {names}")
        seen.append(current)
        if len(seen) > MAX_EXTENDS:
            raise ConfigError(f"{where}: extends: a chain of more than {MAX_EXTENDS} files")
        source = _read_yaml(current)
        chain.append(source)
        base = source.data.pop(EXTENDS, None)
        if base is None:
            break
        where = source.where((EXTENDS,))
        if not isinstance(base, str) or not base.strip() or "\0" in base:
            raise ConfigError(
                f"{where}: extends: expected the path of the config this one builds on, got {_kind(base)}"
            )
        target = (current.parent / base).resolve()
        if not target.exists():
            raise ConfigError(f"{where}: extends: file not found: {_display(target)}")
        current = target
    chain.reverse()
    return chain


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base` (in place): mappings merge recursively, anything else replaces."""
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


# --------------------------------------------------------------------------------------
# Dotted overrides

_SEGMENT = re.compile(r"([^.\[\]\s]+)((?:\[\d+\])*)")


def _parse_key(key: str) -> Path_:
    """`acute.sites[0].beds` or `acute.sites.0.beds` -> ("acute", "sites", 0, "beds")."""
    bad = ConfigError(f"override {key!r}: expected a dotted key path such as acute.beds_scale")
    if not isinstance(key, str) or not key:
        raise bad
    parts: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise bad
        name, indices = match.groups()
        parts.append(int(name) if name.isdigit() else name)
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", indices))
    if not isinstance(parts[0], str):
        raise bad
    return tuple(parts)


def _apply_override(data: dict[str, Any], key: str, path: Path_, value: Any) -> None:
    if path[0] == EXTENDS:
        raise ConfigError(f"override {key}: extends cannot be overridden; load another file")
    node: Any = data
    for depth, part in enumerate(path[:-1]):
        if isinstance(node, dict):
            if isinstance(part, int):
                raise ConfigError(f"override {key}: {_dotted(path[:depth])} is a mapping, not a list")
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        elif isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                raise ConfigError(
                    f"override {key}: {_dotted(path[:depth])} is a list of {len(node)} items; "
                    f"expected an index 0 to {len(node) - 1}"
                )
            node = node[part]
        else:
            raise ConfigError(f"override {key}: {_dotted(path[:depth])} is {_kind(node)}, not a mapping")
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or not 0 <= last < len(node):
            raise ConfigError(
                f"override {key}: {_dotted(path[:-1])} is a list of {len(node)} items; "
                f"expected an index 0 to {len(node) - 1}"
            )
        node[last] = copy.deepcopy(value)
    elif isinstance(node, dict):
        if isinstance(last, int):
            raise ConfigError(f"override {key}: {_dotted(path[:-1])} is a mapping, not a list")
        if isinstance(value, Mapping) and isinstance(node.get(last), dict):
            deep_merge(node[last], value)
        else:
            node[last] = copy.deepcopy(value)
    else:
        raise ConfigError(f"override {key}: {_dotted(path[:-1])} is {_kind(node)}, not a mapping")


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    """`["acute.beds_scale=0.9", "run.seed=7"]` -> a dict, each value read as YAML (0.9, 7, true)."""
    import yaml

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {pair!r}: expected KEY=VALUE, e.g. acute.beds_scale=0.9")
        try:
            value = _parse(raw)[1] if raw.strip() else raw
        except yaml.YAMLError:  # not YAML (or too big, too deep): the text itself, for the schema to judge
            value = raw
        out[key.strip()] = value
    return out


# --------------------------------------------------------------------------------------
# Validation errors -> one line


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _normalise_loc(loc: tuple[Any, ...], data: Any) -> Path_:
    """The pydantic error location as a path into the data, without union tags and such."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and i < len(loc) - 1:
            continue  # a tagged-union label such as 'capacity': not a key of the data
        else:
            node = None  # the missing or unknown key itself
        out.append(part)
    return tuple(out)


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types behind Annotated / Optional / Union."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(schema: type, loc: tuple[Any, ...]) -> type | None:
    """The pydantic model class that sits at `loc` (raw pydantic loc), if one can be found."""
    from pydantic import BaseModel

    current: list[Any] = [schema]
    for part in loc:
        nxt: list[Any] = []
        for typ in current:
            for t in _unwrap(typ):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel):
                    if isinstance(part, str) and part in t.model_fields:
                        nxt.append(t.model_fields[part].annotation)
                    elif isinstance(part, str):
                        nxt.append(t)  # a union tag: stay on this model
                elif origin in (list, tuple) and isinstance(part, int):
                    nxt.extend(typing.get_args(t)[:1])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(t)[1])
        if not nxt:
            return None
        current = nxt
    models = [t for typ in current for t in _unwrap(typ) if isinstance(t, type) and issubclass(t, BaseModel)]
    if len(models) > 1 and loc and isinstance(loc[-1], str):
        tagged = [
            m for m in models if m.model_fields.get("kind") and m.model_fields["kind"].default == loc[-1]
        ]
        models = tagged or models
    return models[0] if len(models) == 1 else None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem(err: Mapping[str, Any], schema: type) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    loc = tuple(err.get("loc", ()))
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        model = _model_at(schema, loc[:-1])
        if model is None:
            return f"unknown key {key!r}"
        allowed = sorted(getattr(model, "model_fields", {}))
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        if close:
            return f"unknown key {key!r} (did you mean {close[0]!r}?)"
        return f"unknown key {key!r}; expected one of: {', '.join(allowed)}"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if loc and loc[-1] == "[key]":
        return f"invalid key {err.get('input')!r}: {msg}"
    if "input" in err and not isinstance(err["input"], (dict, list)):
        msg += f" (got {_short(err['input'])})"
    return msg


def _validation_error(exc: Any, sources: list[_Source], merged: dict[str, Any], schema: type) -> ConfigError:
    problems = []
    for err in exc.errors():
        missing = err.get("type") == "missing"
        # A cross-field check (schema._error) says which key inside its section is wrong.
        at = (err.get("ctx") or {}).get("at", ())
        loc = _normalise_loc((*err.get("loc", ()), *at), merged)
        problems.append(f"{_locate(loc, sources, missing)}: {_dotted(loc)}: {_problem(err, schema)}")
    return ConfigError(problems[0], problems)


def _defines(data: Any, path: Path_) -> int:
    """How many leading parts of `path` exist in `data`."""
    depth = 0
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            break
        depth += 1
    return depth


def _locate(loc: Path_, sources: list[_Source], missing: bool) -> str:
    """The file (and line) a problem at `loc` comes from: the most derived layer that sets
    the deepest part of it (a missing key belongs to whoever set its parent)."""
    target = loc[:-1] if missing else loc
    files = [s for s in sources if not s.is_override]
    best, best_depth = (files or sources)[-1], 0
    for source in reversed(sources):  # most derived first: it wins ties
        depth = _defines(source.data, target)
        if depth > best_depth:
            best, best_depth = source, depth
    return best.where(target[:best_depth]) if best_depth > 0 else best.label


# --------------------------------------------------------------------------------------
# Public API


def key_lines(path: str | os.PathLike[str]) -> dict[Path_, int]:
    """The 1-based line of every key path in one YAML file (its `extends:` not followed),
    for files that check more than the schema can and must still say where."""
    return dict(_read_yaml(Path(path)).lines)


def _default_schema() -> type[FlowsimConfig]:
    from flowsim.config.schema import FlowsimConfig

    return FlowsimConfig


def load_config(
    path: str | os.PathLike[str],
    overrides: Mapping[str, object] | None = None,
    *,
    schema: type[BaseModel] | None = None,
) -> FlowsimConfig:
    """Load, merge, override and validate a config file; raise `ConfigError` on any problem.

    `overrides` maps dotted key paths (``"acute.beds_scale"``, ``"acute.sites[0].beds"``)
    to values. `schema` is the pydantic model to validate against (the flowsim config by
    default; tests and experiment files pass their own).
    """
    from pydantic import ValidationError

    model = schema or _default_schema()
    chain = _read_chain(Path(path))
    merged: dict[str, Any] = {}
    for source in chain:
        deep_merge(merged, source.data)
    sources = list(chain)
    if overrides:
        for key, value in overrides.items():
            _apply_override(merged, key, _parse_key(key), value)
        sources.append(_Source(f"{chain[-1].label} (override)", _override_layer(overrides), is_override=True))
    try:
        return model.model_validate(merged)  # type: ignore[return-value]
    except ValidationError as exc:
        raise _validation_error(exc, sources, merged, model) from None


def _override_layer(overrides: Mapping[str, object]) -> dict[Any, Any]:
    """The key paths the overrides set, as a tree (int keys stand for list indices), so a
    problem can be traced back to an override."""
    root: dict[Any, Any] = {}
    for key, value in overrides.items():
        node = root
        path = _parse_key(key)
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return root


def _json_ready(value: Any) -> Any:
    """Non-finite floats as the strings pydantic reads back; everything else unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def canonical_json(config: BaseModel) -> str:
    """The config as one canonical JSON text: every value (defaults included), keys sorted,
    no spaces, dates as ISO strings, floats in Python's shortest round-trip form."""
    data = _json_ready(config.model_dump(mode="json"))
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_hash(config: BaseModel) -> str:
    """sha256 (hex) of the canonical JSON: the identity of a config in results and manifests."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def config_from_canonical(
    text: str | Mapping[str, Any], *, schema: type[BaseModel] | None = None
) -> FlowsimConfig:
    """Rebuild the config from its canonical JSON (as written in a run's manifest)."""
    from pydantic import ValidationError

    model = schema or _default_schema()
    if not isinstance(text, str):
        text = json.dumps(dict(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{CANONICAL_SOURCE}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{CANONICAL_SOURCE}: expected a JSON object, got {_kind(data)}")
    try:
        return model.model_validate_json(text)  # type: ignore[return-value]
    except ValidationError as exc:
        raise _validation_error(exc, [_Source(CANONICAL_SOURCE, data)], data, model) from None
