"""Connectors: read a source, yield activities. See base.py for the contract.

Every module in this package that defines a ``Connector`` subclass with a ``kind`` is found by
``registry()``: a new source kind is a new module, and nothing else needs to change.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from commops.connectors.base import Connector

_NOT_CONNECTORS = frozenset({"base", "http"})


@cache
def registry() -> dict[str, type[Connector]]:
    """Source kind -> connector class, for every connector module in this package."""
    found: dict[str, type[Connector]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name in _NOT_CONNECTORS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Connector)
                and cls is not Connector
                and cls.__module__ == module.__name__
                and not inspect.isabstract(cls)
                and getattr(cls, "kind", None)
            ):
                found[cls.kind] = cls
    return found
