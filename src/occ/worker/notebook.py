"""``packet.ipynb``: a Jupyter notebook that recomputes a weekly packet from the database.

For analysts who want the frames behind the packet. The notebook holds no credential: it
reads the store's URL from occ's settings (``OCC_DATABASE_URL``, ``occ.toml`` or the default
``.occ/occ.db``) when it runs. Written with nbformat (the reference implementation of the
notebook format), which is the optional extra ``occ[notebook]``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from occ.errors import ConfigError, InputFileError

__all__ = ["notebook_cells", "write_notebook"]


def notebook_cells(shop: str, week_ending: date, now_iso: str) -> list[tuple[str, str]]:
    """The notebook's cells as ``(kind, source)``, kind ``markdown`` or ``code``."""
    return [
        (
            "markdown",
            f"# Weekly insight packet — {shop}, week ending {week_ending}\n\n"
            "Recomputes the packet from occ's store, as `occ insights weekly` does. The store "
            "is the one of occ's settings: set `OCC_DATABASE_URL` (or keep an `occ.toml`) "
            "before starting Jupyter; no credential is written in this notebook.",
        ),
        (
            "code",
            "from datetime import date, datetime\n\n"
            "import pandas as pd\n\n"
            "from occ.config import load_settings\n"
            "from occ.store.engine import open_store\n"
            "from occ.worker.packet import compose_packet\n\n"
            f"SHOP = {shop!r}\n"
            f"WEEK_ENDING = date.fromisoformat({week_ending.isoformat()!r})\n"
            f"NOW = datetime.fromisoformat({now_iso.replace('Z', '+00:00')!r})\n\n"
            "settings = load_settings()\n"
            "engine = open_store(settings.resolved_database_url())\n"
            "window, packet = compose_packet(\n"
            "    settings, engine, now=NOW, week_ending=WEEK_ENDING, shop=SHOP\n"
            ")\n"
            "[item['sentence'] for item in packet['headline']]",
        ),
        ("markdown", "## KPI trends: the week's days against the week before and the band"),
        (
            "code",
            "trends = {\n"
            "    kpi: pd.DataFrame(trend['days']).set_index('date')\n"
            "    for kpi, trend in packet['trends'].items()\n"
            "    if trend['status'] == 'ok'\n"
            "}\n"
            "missing = {kpi: t['reason'] for kpi, t in packet['trends'].items() "
            "if t['status'] != 'ok'}\n"
            "trends.get('sales_delta', missing)",
        ),
        ("markdown", "## Anomalies and the decisions that met them"),
        (
            "code",
            "anomalies = pd.DataFrame(packet['anomalies']['items'])\n"
            "packet['anomalies']['responseRate'], anomalies",
        ),
        ("markdown", "## Did it work? Outcomes of the approved actions, per kind"),
        (
            "code",
            "outcomes = pd.DataFrame(packet['outcomes']['byKind'])\n"
            "outcomes, pd.DataFrame(packet['outcomes']['items'])",
        ),
        ("markdown", "## Decision sync health and pipeline health"),
        (
            "code",
            "sync = packet['sync']\n"
            "hourly = pd.DataFrame(sync.get('hourlyBuckets', []))\n"
            "pipeline = pd.DataFrame(packet['pipeline']['sources']).set_index('source')\n"
            "sync.get('totals', sync.get('reason')), pipeline",
        ),
        ("markdown", "## Watchpoints for next week"),
        ("code", "[item['text'] for item in packet['watchpoints']['items']]"),
    ]


def write_notebook(path: Path, shop: str, week_ending: date, now_iso: str) -> Path:
    """Write the notebook of that week to ``path``.

    Raises:
        ConfigError: nbformat is not installed.
        InputFileError: ``path`` cannot be written.
    """
    try:
        import nbformat
        from nbformat import v4
    except ImportError:
        raise ConfigError(
            "--notebook needs nbformat; install it with pip install 'occ[notebook]'"
        ) from None
    cells = [
        v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source)
        for kind, source in notebook_cells(shop, week_ending, now_iso)
    ]
    notebook = v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    # Stable cell ids: the same week writes the same notebook.
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    nbformat.validate(notebook)
    partial = path.with_name(f".{path.name}.partial")
    try:
        nbformat.write(notebook, str(partial))
        partial.replace(path)
    except OSError as exc:
        raise InputFileError(f"cannot write {path} ({exc.strerror or exc})") from None
    return path
