"""The databases a benchmark runs on: SQLite always, PostgreSQL when DATABASE_URL names a server (a fresh
database is made beside the one named, and dropped by the returned callback)."""

from __future__ import annotations

import os
from collections.abc import Callable


def _postgres(base_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    stem, _name = base_url.rsplit("/", 1)
    name = f"xueji_bench_{os.getpid()}"
    admin = f"{stem}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{stem}/{name}", drop


def targets() -> list[tuple[str, str, Callable[[], None] | None]]:
    """(label, DATABASE_URL, drop) for each database; "@DATA@" in a URL stands for the run's data folder."""
    found: list[tuple[str, str, Callable[[], None] | None]] = [("SQLite", "sqlite:///@DATA@/bench.sqlite3", None)]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url, drop = _postgres(os.environ["DATABASE_URL"])
        found.append(("PostgreSQL", url, drop))
    return found
