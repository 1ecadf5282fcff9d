"""The package's own files: the config and the SQL.

In a checkout they are the repository's folders ``config/`` and ``airflow/include/sql/``, where people
edit them. The wheel carries copies of the same folders under
``lakehouse/bundled/`` (``pyproject.toml``'s force-include), so that an installed package, such as
the one a Databricks job cluster installs, has them without a checkout. Every reader goes through
here, and the copy inside the package wins when there is one: an installed wheel never reads a
folder that happens to lie beside it.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

CONFIG = "config"
SQL = "airflow/include/sql"
SQL_DIR_VAR = "LAKEHOUSE_SQL_DIR"
"""A project's own SQL folder, laid out like ``airflow/include/sql``: a file there wins over the
package's of the same path, so a project writes its Gold, XREF and smoke SQL and keeps the rest."""

_PACKAGE_DIR = Path(str(files("lakehouse")))
_BUNDLED = _PACKAGE_DIR / "bundled"


def checkout_root() -> Path | None:
    """The repository this package is imported from (an editable install), if it is one."""
    root = _PACKAGE_DIR.parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / CONFIG).is_dir() else None


def folder(name: str) -> Path:
    """``CONFIG`` or ``SQL``: the wheel's copy, else the checkout's folder."""
    packaged = _BUNDLED / name
    if packaged.is_dir():
        return packaged
    root = checkout_root()
    if root is None:
        raise FileNotFoundError(f"neither {packaged} nor a checkout's {name}/: is the package installed from a wheel?")
    return root / name


def config_dir() -> Path:
    return folder(CONFIG)


def sql_dir() -> Path:
    return folder(SQL)


def sql_file(relative: str) -> Path:
    """``relative`` (``gold/dim_address.sql``) in ``$LAKEHOUSE_SQL_DIR`` if it is there, else the package's."""
    own = os.environ.get(SQL_DIR_VAR)
    if own and (Path(own) / relative).is_file():
        return Path(own) / relative
    return sql_dir() / relative


def base_dir() -> Path:
    """What relative paths in config (``local.landing_root: .lakehouse/landing``) are relative to:
    the checkout, or the working directory of an installed package."""
    return checkout_root() or Path.cwd()
