"""Config dataclasses from YAML presets and ``key=value`` overrides, checked field by field.

Defaults live in the dataclass; a preset only overrides them. Unknown keys and values of the
wrong type are errors that name the key. YAML 1.1 reads ``1e-5`` as a string, so values are
coerced by the field's declared type (nanoGPT's configurator, without the ``exec``).
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from .errors import StudioError

T = TypeVar("T")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce(value: Any, kind: Any, key: str) -> Any:
    """Turn ``value`` into ``kind`` (a type hint) or raise a StudioError naming ``key``."""
    origin = get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(kind)
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null"}):
            if type(None) in options:
                return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, key)
            except StudioError as exc:
                errors.append(str(exc))
        raise StudioError(errors[0] if errors else f"{key} cannot be empty")
    if origin is Literal:
        allowed = get_args(kind)
        for option in allowed:
            if value == option or str(value) == str(option):
                return option
        raise StudioError(f"{key} must be one of {', '.join(map(str, allowed))} (got {value!r})")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise StudioError(f"{key} must be a list (got {value!r})")
        args = get_args(kind)
        inner = args[0] if args else Any
        items = [coerce(v, inner, key) for v in value]
        return items if origin is list else tuple(items)
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise StudioError(f"{key} must be a mapping (got {value!r})")
        return dict(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in _TRUE:
            return True
        if str(value).strip().lower() in _FALSE:
            return False
        raise StudioError(f"{key} must be true or false (got {value!r})")
    if kind in (int, float):
        if isinstance(value, bool):
            raise StudioError(f"{key} must be a number (got {value!r})")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise StudioError(f"{key} must be a number (got {value!r})") from None
        if kind is int:
            if number != int(number):
                raise StudioError(f"{key} must be a whole number (got {value!r})")
            return int(number)
        return number
    if kind is str:
        if isinstance(value, (dict, list)):
            raise StudioError(f"{key} must be text (got {value!r})")
        return str(value)
    if kind is Path:
        return Path(str(value))
    return value


def from_dict(cls: type[T], data: dict[str, Any] | None, source: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys and bad types raise StudioError."""
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise StudioError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in {source}; "
            f"allowed: {', '.join(sorted(fields))}"
        )
    values = {name: coerce(value, hints[name], name) for name, value in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise StudioError(f"{source}: {exc}") from None


def parse_overrides(pairs: list[str] | None) -> dict[str, str]:
    """``["lr=2e-4", "rank=16"]`` -> ``{"lr": "2e-4", "rank": "16"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise StudioError(f"an override must look like key=value (got {pair!r})")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def load_config(cls: type[T], path: str | Path | None = None,
                overrides: dict[str, Any] | None = None) -> T:
    """Defaults from ``cls``, then the YAML preset at ``path``, then ``overrides``."""
    import yaml

    data: dict[str, Any] = {}
    source = "config"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise StudioError(f"config file {path} does not exist")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise StudioError(f"{path} must hold a mapping of keys to values")
        data.update(loaded)
        source = str(path)
    data.update(overrides or {})
    return from_dict(cls, data, source)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass config as plain data (paths as strings) for YAML/JSON."""
    out = dataclasses.asdict(cfg)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}
