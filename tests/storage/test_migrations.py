"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.models import Base


def test_migrated_schema_matches_the_models(runtime):
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrating_twice_is_harmless(runtime, settings):
    from storage.db import migrate

    migrate(settings.database_url)
    with runtime.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads()
