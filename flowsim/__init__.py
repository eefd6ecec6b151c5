"""flowsim: whole-system patient flow for English local health and care systems.

The public API is loaded on first use, so ``import flowsim`` stays instant::

    import flowsim
    config = flowsim.load_config("configs/footprint.yaml", {"acute.beds_scale": 0.9})
    output = flowsim.simulate(config, replication=0)
    paths = flowsim.run_replications(config, out_dir="results/demo")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.config.loader import load_config as load_config
    from flowsim.experiment import run_replications as run_replications
    from flowsim.model import simulate as simulate


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowsim")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


# public name -> module that defines it
_LAZY = {
    "load_config": "flowsim.config.loader",
    "simulate": "flowsim.model",
    "run_replications": "flowsim.experiment",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use, not at import
        value: Any = _version()
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowsim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
