"""Shared fixtures: a database per test (SQLite always, PostgreSQL when reachable), the fake Slack
Web API, and the bot itself running on a real port behind Waitress."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.runtime.app import Hypercare, create_hypercare
from bot.runtime.server import HttpServer
from bot.runtime.settings import Settings
from models.db import make_engine, upgrade
from tests.fake_slack import Call, FakeSlack
from tests.slack_requests import SlackSender

# The tracker tests' fixtures (`trackers`, `tbot`) live beside their helpers.
pytest_plugins = ("tests.tracker_support",)

PG_URL = os.environ.get("HYPERCARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_admin() -> Engine | None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is not reachable at {PG_URL} (CI=true makes this a failure): {exc}") from exc
        return None
    return engine


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated template database; each test gets a fresh copy of it (CREATE DATABASE … TEMPLATE)."""
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    name = f"hc_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hypercare.db'}"
        upgrade(url)
        yield url
        return
    if pg_template is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"hc_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


TEST_CHANNELS = ("C100", "C101", "C102")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    for channel in TEST_CHANNELS:
        fake.add_channel(channel_id=channel, name=f"war-room-{channel.lower()}")
    yield fake
    fake.stop()


def bot_settings(*, fake: FakeSlack, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.url, database_url=database_url,
        workers=4, channel_post_interval=0.0,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def card_posts(fake: FakeSlack) -> list[Call]:
    """The bot's ticket cards (acknowledgements), as opposed to its other posts (follow-ups, …)."""
    return [
        c for c in fake.calls_to("chat.postMessage")
        if isinstance(c.params.get("blocks"), list) and c.params["blocks"] and c.params["blocks"][0].get("block_id") == "card"
    ]


@dataclass
class RunningBot:
    hypercare: Hypercare
    server: HttpServer
    slack: SlackSender
    fake: FakeSlack

    @property
    def engine(self) -> Engine:
        return self.hypercare.engine

    def settle(self, timeout: float = 15.0) -> None:
        assert self.hypercare.wait_idle(timeout=timeout), "the bot did not finish its queued work in time"


def start_bot(*, fake: FakeSlack, database_url: str, **overrides: object) -> RunningBot:
    hypercare = create_hypercare(settings=bot_settings(fake=fake, database_url=database_url, **overrides), migrate=False)
    hypercare.start()
    server = HttpServer(hypercare=hypercare, host="127.0.0.1", port=0, threads=8).start()
    sender = SlackSender(base_url=server.url, signing_secret=SIGNING_SECRET, team_id=fake.team_id, bot_user_id=fake.bot_user_id)
    return RunningBot(hypercare=hypercare, server=server, slack=sender, fake=fake)


def stop_bot(running: RunningBot) -> None:
    running.server.stop()
    running.hypercare.stop()
    running.hypercare.engine.dispose()


@pytest.fixture
def bot(fake_slack: FakeSlack, database_url: str) -> Iterator[RunningBot]:
    running = start_bot(fake=fake_slack, database_url=database_url)
    yield running
    stop_bot(running)
