"""Configs: the strict schema (`schema.py`) and the loader that reads YAML into it.

`FlowsimConfig` is imported lazily so that reading this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowsim.config.loader import (
    ConfigError,
    canonical_json,
    config_from_canonical,
    config_hash,
    load_config,
    parse_overrides,
)

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig

__all__ = [
    "ConfigError",
    "FlowsimConfig",
    "canonical_json",
    "config_from_canonical",
    "config_hash",
    "load_config",
    "parse_overrides",
]


def __getattr__(name: str) -> Any:
    if name == "FlowsimConfig":
        from flowsim.config.schema import FlowsimConfig

        return FlowsimConfig
    raise AttributeError(f"module 'flowsim.config' has no attribute {name!r}")
