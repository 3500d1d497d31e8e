"""The command line's options made from config dataclasses, and the values they parse to.

One ``--FIELD VALUE`` per settable field of a config class, with its help, range, paper
default and quick-mode value (:meth:`gancourse.config.Config.spec`); ``--set FIELD=VALUE``
does the same. Nothing here imports torch, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

#: The recipes of gancourse.train.recipes.RECIPES, named here so that ``--help`` need not import torch.
RECIPE_NAMES = (
    "toy_gan",
    "mlp_gan",
    "dcgan",
    "wgan",
    "wgan_gp",
    "resnet_gan",
    "conditional_gan",
    "pix2pix",
    "progan",
    "stylegan2",
)
CHECKPOINT_NAME = "checkpoint.pt"


class UsageError(ValueError):
    """A command-line mistake that is not a config value (a missing file, a conflicting flag): exit status 2."""


class CommandError(RuntimeError):
    """What stops a command although its arguments are right (a full disk, a folder it may not write): status 1."""


def os_reason(err: OSError) -> tuple[str, str]:
    """``(what went wrong, what to do)`` for an ``OSError``, in words a user acts on."""
    import errno

    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full", "free some space, or write elsewhere"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied", "fix its permissions, or write elsewhere"
    if err.errno == errno.EROFS:
        return "the file system is read-only", "write elsewhere"
    if err.errno == errno.ENOENT:
        return "no such file or folder (a folder that cannot be made here)", "check the path"
    if err.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder", "check the path"
    if err.errno == errno.EISDIR:
        return "it is a folder", "give a file name"
    return err.strerror or type(err).__name__, "check the path"


def os_error(err: OSError, doing: str, option: str | None = None) -> CommandError:
    """A :class:`CommandError` for ``err`` met while ``doing`` (e.g. "write the sample grid x.png").

    ``option`` names the command-line option that chose the path (``--out``), so the fix can say "another --out".
    """
    reason, fix = os_reason(err)
    if option is not None:
        fix = fix.replace("write elsewhere", f"choose another {option}")
    where = f" ({err.filename})" if err.filename and str(err.filename) not in doing else ""
    return CommandError(f"could not {doing}{where}: {reason}; {fix}")


def _init_fields(cls: type) -> list[dict[str, Any]]:
    """``cls.spec()`` without the derived fields (``init=False``: ProGAN's ``steps``)."""
    settable = {f.name for f in dataclasses.fields(cls) if f.init}
    return [field for field in cls.spec() if field["name"] in settable]


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        return " or ".join(_type_name(arm) for arm in typing.get_args(hint))
    if origin is tuple:
        return "LIST"
    return {bool: "BOOL", int: "INT", float: "FLOAT", str: "STR"}.get(hint, "VALUE")


def add_config_options(
    parser: argparse.ArgumentParser, cls: type, title: str, prefix: str = "", skip: tuple[str, ...] = ()
) -> None:
    """One ``--{prefix}FIELD`` option per settable field of config class ``cls``, with help, range and defaults."""
    from gancourse.config.base import _allowed

    quick = dict(getattr(cls, "QUICK", {}))
    also = "" if prefix else "; also --set FIELD=VALUE"
    group = parser.add_argument_group(f"{title} ({cls.__name__} fields{also})")
    for field in _init_fields(cls):
        name = field["name"]
        if name in skip:
            continue
        default = field["default"]
        parts = [field.get("help") or "", f"[{_allowed(field)}]", f"default {_show(default)}"]
        if name in quick:
            parts.append(f"quick mode {_show(quick[name])}")
        text = " ".join(p for p in parts if p).replace("%", "%%")
        group.add_argument(
            f"--{prefix}{name}", dest=f"{prefix}cfg__{name}", metavar=_type_name(field["type"]), default=None, help=text
        )


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "(empty)"
    return repr(value) if isinstance(value, str) else str(value)


def parse_value(text: str, hint: Any) -> Any:
    """The Python value of option text ``text`` for a field typed ``hint``.

    Text that does not parse is returned unchanged, so the config rejects it with
    its own message (``DCGANConfig.lr_g = 'fast' must be a number``).
    """
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        arms = typing.get_args(hint)
        if "," in text:
            arms = sorted(arms, key=lambda arm: typing.get_origin(arm) is not tuple)  # tuples first
        for arm in arms:
            value = parse_value(text, arm)
            if not isinstance(value, str) or arm is str:
                return value
        return text
    if origin is tuple:
        item = (typing.get_args(hint) or (str,))[0]
        return tuple(parse_value(part.strip(), item) for part in text.split(",") if part.strip())
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        return text
    if hint is int:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)  # 1e4: the config accepts whole floats
            except ValueError:
                return text
    if hint is float:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def config_overrides(args: argparse.Namespace, cls: type, prefix: str = "") -> dict[str, Any]:
    """The values of the ``--{prefix}FIELD`` options (and ``--set FIELD=VALUE``), parsed by the fields' types."""
    hints = typing.get_type_hints(cls)
    raw: dict[str, str] = {}
    for key, value in vars(args).items():
        if key.startswith(f"{prefix}cfg__") and value is not None:
            raw[key[len(f"{prefix}cfg__") :]] = value
    for item in [] if prefix else args.set or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--set {item!r} is not FIELD=VALUE: e.g. --set lr_g=1e-4 or --set batch_sizes=32,32,16,16"
            )
        raw[name.strip()] = value.strip()
    # an unknown name is left as text: Config.replace names it and lists the fields
    return {name: parse_value(value, hints[name]) if name in hints else value for name, value in raw.items()}


def make_config(cls: type, mode: str | None, overrides: Mapping[str, Any]):
    """``cls`` for the run mode with ``overrides``; a bad value raises the config's ``ValueError``."""
    return cls.for_mode(mode, **overrides)


def changed_fields(cfg: Any) -> dict[str, Any]:
    """The fields of ``cfg`` that differ from its class's (paper) defaults."""
    defaults = {f["name"]: f["default"] for f in type(cfg).spec()}
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k in defaults and v != defaults[k]}


def pick_device(name: str | None):
    """The torch device ``name`` names (cpu, cuda, cuda:1, mps), or the best available."""
    from gancourse.device import pick_device as pick

    return pick(name)
