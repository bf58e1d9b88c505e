"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app, db


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set")
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"migration_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_reach_the_models_schema(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
