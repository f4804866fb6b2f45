"""Four gunicorn workers (gunicorn.conf.py, the production web role) started together on a fresh
database all serve, 10 times over, on SQLite and on PostgreSQL (a new database for each start): the
migrations run once, under a lock, instead of four times at once. bench/workers_start.py
times the starts."""
import os

from sqlalchemy import create_engine, text

from ops.workers import start_and_count_serving
from storage.db import schema_is_current
from tests.conftest import _postgres_database

STARTS = 10


def test_four_workers_on_a_fresh_database_all_serve_ten_times(tmp_path):
    postgres = os.environ.get("DATABASE_URL_TEST")
    for start in range(STARTS):
        url, drop = _postgres_database(postgres) if postgres else (f"sqlite:///{tmp_path}/start{start}.db", None)
        try:
            pids, log = start_and_count_serving(url, workers=4, timeout=180)
            assert len(pids) == 4, (start, log)
            assert "Traceback" not in log and "already exists" not in log, log
            engine = create_engine(url)
            with engine.connect() as connection:  # one revision row, the newest
                assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert schema_is_current(url, engine)
            engine.dispose()
        finally:
            if drop is not None:
                drop()
