"""Typed settings that cross the TFX boundary: frozen dataclasses <-> JSON-able dicts.

A component's settings travel as its `custom_config` (or an execution property): a plain
dict, because that is what TFX serialises. Each component defines one frozen dataclass
deriving from `Settings`; the pipeline builds it from `SnoutConfig` and hands over
`settings.to_config()`, and the component's code parses it once with
`TheSettings.from_config(custom_config)`. Defaults live in the dataclass only.

    @dataclass(frozen=True)
    class TrainerSettings(Settings):
        epochs: int = 5
        head: HeadParams = HeadParams()

    TrainerSettings.from_config(TrainerSettings(epochs=3).to_config()) == TrainerSettings(epochs=3)

Parsing is strict: an unknown key or a value of the wrong type is a ValueError naming it
(a stale pipeline spec fails loudly instead of training with a silent fallback); a missing
key takes the dataclass default.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping, Type, TypeVar

T = TypeVar("T", bound="Settings")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of every component's settings: `to_config()` and strict `from_config()`."""

    def to_config(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls: Type[T], config: Mapping[str, Any]) -> T:
        if isinstance(config, cls):
            return config
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
        values = {name: _parse(cls.__name__, name, hints[name], config[name]) for name in config}
        return cls(**values)


def _parse(owner: str, name: str, hint, value):
    """`value` as the field's declared type: nested Settings, Optional[...], tuples, exact scalars."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:  # Optional[X]
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _parse(owner, name, hint, value)
    if isinstance(hint, type) and issubclass(hint, Settings):
        return hint.from_config(value)
    if origin in (tuple, list):
        item = args[0] if args else Any
        parsed = [_parse(owner, name, item, v) for v in value]
        return tuple(parsed) if origin is tuple else parsed
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 1.0 as 1
    if hint in (int, float, str, bool) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ValueError(f"{owner}.{name}: expected {hint.__name__}, got {value!r}")
    return value
