"""Every table module, listed: the schema Alembic compares against (models/migrations/env.py).

A new `models/<domain>_tables.py` is added to TABLE_MODULES here (tests/test_import_graph.py
checks that none is left out); nothing is found by scanning the folder.
"""
from __future__ import annotations

from types import ModuleType

from sqlmodel import SQLModel

from models import dashboard_tables, digest_tables, duplicate_tables, followup_tables, loop_tables, tables, tracker_tables, triage_tables

TABLE_MODULES: tuple[ModuleType, ...] = (tables, digest_tables, followup_tables, loop_tables, triage_tables, duplicate_tables, dashboard_tables, tracker_tables)
metadata = SQLModel.metadata
