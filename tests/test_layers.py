"""The computation layer stays pure: imports and clock reads checked on the AST.

``occ.metrics`` and ``occ.anomalies`` may import only the standard library, ``occ.contracts``,
their own package and the numeric stack; they never read a clock (``now`` is an argument).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PURE_PACKAGES = ("occ.metrics", "occ.anomalies")
ALLOWED_THIRD_PARTY = frozenset({"numpy", "pandas", "statsforecast", "statsmodels"})
CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today"})  # datetime.now(), date.today(), …
TIME_FUNCTIONS = frozenset({"time", "time_ns"})


def _package_of(path: Path) -> str:
    """``src/occ/metrics/sales.py`` and ``src/occ/metrics/__init__.py`` → ``occ.metrics``."""
    return ".".join(path.relative_to(SRC).parent.parts)


def _allowed(module: str, own_package: str) -> bool:
    top = module.partition(".")[0]
    if top == "occ":
        return any(
            module == allowed or module.startswith(allowed + ".")
            for allowed in ("occ.contracts", own_package)
        )
    return top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY


def violations(source: str, package: str) -> list[str]:
    """Forbidden imports and clock calls in ``source``, a module of ``package``."""
    own_package = ".".join(package.split(".")[:2])
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if not _allowed(a.name, own_package)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from occ import contracts` names submodules: check each of them
            targets = [f"{module}.{a.name}" for a in node.names] if module == "occ" else [module]
            found += [f"from {t} import" for t in targets if not _allowed(t, own_package)]
            if module == "time" and any(a.name in TIME_FUNCTIONS for a in node.names):
                found.append("from time import time")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attribute, owner = node.func.attr, node.func.value
            if attribute in CLOCK_ATTRIBUTES or (
                attribute in TIME_FUNCTIONS and isinstance(owner, ast.Name) and owner.id == "time"
            ):
                found.append(f"clock call .{attribute}() on line {node.lineno}")
    return found


def _pure_modules() -> list[Path]:
    return sorted(
        path
        for package in PURE_PACKAGES
        for path in (SRC / package.replace(".", "/")).rglob("*.py")
    )


def test_the_metrics_modules_are_checked() -> None:
    names = {path.name for path in _pure_modules()}
    assert {"sales.py", "sla.py", "traffic.py", "inventory.py", "fulfillment.py"} <= names


@pytest.mark.parametrize("path", _pure_modules(), ids=lambda path: str(path.relative_to(SRC)))
def test_pure_layer_imports_and_clock(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), _package_of(path)) == []


def test_checker_catches_what_it_is_meant_to_catch() -> None:
    bad = """
import httpx
from sqlalchemy import select
from occ.store import engine
from occ import config
from ..sources import base
from time import time
import datetime, time as clock
datetime.datetime.now()
datetime.date.today()
time.time()
"""
    assert violations(bad, "occ.metrics") == [
        "import httpx",
        "from sqlalchemy import",
        "from occ.store import",
        "from occ.config import",
        "from occ.sources import",
        "from time import time",
        "clock call .now() on line 9",
        "clock call .today() on line 10",
        "clock call .time() on line 11",
    ]
    good = """
from __future__ import annotations
import numpy as np
from datetime import datetime, timedelta
from occ.contracts.kpis import SalesConfig
from occ import contracts
from . import _common
from occ.metrics.sales import compute_sales_delta
"""
    assert violations(good, "occ.metrics") == []


LAYERS = {  # DESIGN.md: each layer's packages and the occ packages they may import
    "base": ({"occ.contracts", "occ.config", "occ.errors"}, {"occ.contracts", "occ.errors"}),
    "adapters": ({"occ.sources", "occ.store"}, {"occ.contracts", "occ.config", "occ.errors"}),
    "computation": ({"occ.metrics", "occ.anomalies"}, {"occ.contracts"}),
    "jobs": (
        {
            "occ.refresh",
            "occ.decisions",
            "occ.ops",
            "occ.insights",
            "occ.knowledge",
            "occ.exports",
        },
        {
            "occ.store",
            "occ.metrics",
            "occ.anomalies",
            "occ.sources",
            "occ.contracts",
            "occ.config",
            "occ.errors",
        },
    ),
}


def _occ_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {".".join(n.split(".")[:2]) for n in names if n.startswith("occ.")}
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_what_design_allows(layer: str) -> None:
    packages, allowed = LAYERS[layer]
    wrong = []
    for path in sorted((SRC / "occ").rglob("*.py")):
        top = ".".join(path.relative_to(SRC).with_suffix("").parts[:2])
        if top not in packages:
            continue
        for imported in _occ_imports(path) - allowed - {top, "occ.__init__"}:
            wrong.append(f"{path.relative_to(SRC)} imports {imported}")
    assert not wrong, wrong
