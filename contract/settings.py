"""Typed settings that cross the TFX boundary: frozen dataclasses <-> JSON-able dicts.

A component's settings travel as its `custom_config` (or an execution property): a plain
dict, because that is what TFX serialises. Each component defines one frozen dataclass
deriving from `Settings`; the pipeline builds it from `SnoutConfig` and hands over
`settings.to_config()`, and the component's code parses it once with
`TheSettings.from_config(custom_config)` (trainer/settings.py shows the pattern).

    @dataclass(frozen=True)
    class TrainerSettings(Settings):
        epochs: int
        head: HeadParams          # nested Settings travel as nested dicts

    TrainerSettings.from_config(settings.to_config()) == settings

Parsing is strict: an unknown key, a missing one (for a field without a default) or a value
of the wrong type is a ValueError naming it, so a stale pipeline spec fails loudly instead of
training with a silent fallback. Tuples travel as JSON lists.
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
        """The settings as plain JSON values (dicts, lists, str, numbers, bools, None): what TFX stores."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_config(cls: Type[T], config: Mapping[str, Any]) -> T:
        if isinstance(config, cls):
            return config
        if not isinstance(config, Mapping):
            raise ValueError(f"{cls.__name__}: expected a dict of settings, got {type(config).__name__}")
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        unknown = sorted(set(config) - {f.name for f in fields})
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
        missing = [f.name for f in fields if f.name not in config and _required(f)]
        if missing:
            raise ValueError(f"{cls.__name__}: missing setting(s) {', '.join(missing)}")
        values = {name: _parse(cls.__name__, name, hints[name], config[name]) for name in config}
        return cls(**values)


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{owner}.{name}: expected a list, got {value!r}")
        item = args[0] if args else Any
        parsed = [_parse(owner, name, item, v) for v in value]
        return tuple(parsed) if origin is tuple else parsed
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 1.0 as 1
    if hint in (int, float, str, bool) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ValueError(f"{owner}.{name}: expected {hint.__name__}, got {value!r}")
    return value
