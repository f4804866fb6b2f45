"""room for SIP and Client callers' addresses, received texts (replayed, never booked twice), session versions

Revision ID: 0004_addresses_texts_sessions
Revises: 0003_dispatch_indexes
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0004_addresses_texts_sessions'
down_revision = '0003_dispatch_indexes'
branch_labels = None
depends_on = None

WIDENED = (('calls', 'from_number', 32), ('calls', 'to_number', 32), ('queue_entries', 'phone_number', 20))


def _foreign_keys(on: bool) -> None:
    """SQLite changes a column's type by copying the table and dropping the old one; with foreign keys
    on, that DROP would cascade into call_turns, speech_results and queue_events. The pragma only
    takes effect outside a transaction."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.get_context().autocommit_block():
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(False)
    for table, column, old in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=255),
                               existing_nullable=True)
    op.create_table(
        'received_texts',
        sa.Column('message_sid', sa.String(length=64), nullable=False),
        sa.Column('reply', sa.Text(), nullable=False),
        sa.Column('received_at', storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('message_sid'),
    )
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
    op.drop_table('received_texts')
    for table, column, old in WIDENED:
        # Longer addresses (SIP, Client) do not fit the old width: they are cut, as the old code would have refused them.
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=255), type_=sa.String(length=old),
                               existing_nullable=True, postgresql_using=f'left({column}, {old})')
    _foreign_keys(True)
