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
]

Path_ = tuple[str | int, ...]
EXTENDS = "extends"
# Where a problem that belongs to no file (a config rebuilt from a manifest) is said to be.
CANONICAL_SOURCE = "<canonical config>"


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
        """PyYAML's safe loader, except that a key given twice is an error, not a silent win."""

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

    return StrictLoader


def _line_map(node: Any, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """The 1-based line of every key path in a composed YAML node tree."""
    import yaml

    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a folder, expected a YAML config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror})") from None

    loader = _strict_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    finally:
        loader.dispose()

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: expected a mapping of settings (key: value) at the top level, got {_kind(data)}"
        )
    return _Source(label, data, _line_map(node) if node is not None else {})


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
    current = path.resolve()
    where = ""  # the `extends:` line that led to `current`
    while True:
        if current in seen:
            loop = [*seen[seen.index(current) :], current]
            common = os.path.commonpath([str(p.parent) for p in loop])
            names = " -> ".join(os.path.relpath(p, common) for p in loop)
            raise ConfigError(f"{where}: extends: cycle {names}")
        seen.append(current)
        source = _read_yaml(current)
        chain.append(source)
        base = source.data.pop(EXTENDS, None)
        if base is None:
            break
        where = source.where((EXTENDS,))
        if not isinstance(base, str) or not base.strip():
            raise ConfigError(
                f"{where}: extends: expected the path of the config this one builds on, got {_kind(base)}"
            )
        target = (current.parent / base).resolve()
        if not target.is_file():
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
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
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
        loc = _normalise_loc(tuple(err.get("loc", ())), merged)
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
