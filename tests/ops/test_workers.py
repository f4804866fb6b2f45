"""Four gunicorn workers (gunicorn.conf.py, the production web role) started together on a fresh
database all serve: the migrations run once, under a lock, instead of four times at once."""
from sqlalchemy import create_engine, text

from ops.workers import start_and_count_serving

STARTS = 2  # bench/workers_start.py does 10


def test_four_workers_on_a_fresh_database_all_serve(tmp_path, database_url):
    sqlite = database_url.startswith("sqlite")
    for start in range(STARTS if sqlite else 1):  # PostgreSQL: the fixture's fresh database, once
        url = f"sqlite:///{tmp_path}/start{start}.db" if sqlite else database_url
        pids, log = start_and_count_serving(url, workers=4)
        assert len(pids) == 4, log
        assert "Traceback" not in log and "already exists" not in log, log
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        engine.dispose()
