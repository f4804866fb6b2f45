"""promise windows: the window a callback's customer was told (UTC), the zone it was told in, and when

Revision ID: 0005_promise_windows
Revises: 0004_addresses_texts_sessions
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0005_promise_windows'
down_revision = '0004_addresses_texts_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # Adding nullable columns needs no table copy on SQLite, so foreign keys can stay as they are.
    with op.batch_alter_table('queue_entries') as batch:
        batch.add_column(sa.Column('promised_from', storage.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('promised_by', storage.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('promised_zone', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('promised_at', storage.models.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('queue_entries') as batch:
        batch.drop_column('promised_at')
        batch.drop_column('promised_zone')
        batch.drop_column('promised_by')
        batch.drop_column('promised_from')
