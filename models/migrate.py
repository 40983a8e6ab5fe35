"""Alembic, driven from code so the package needs no alembic.ini on the user's disk."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_upgrade(url_or_engine: str | Engine, revision: str = "heads") -> None:
    from models.db import make_engine, normalise_url

    if isinstance(url_or_engine, Engine):
        engine = url_or_engine
        owned = False
    else:
        engine = make_engine(normalise_url(url_or_engine))
        owned = True
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()
