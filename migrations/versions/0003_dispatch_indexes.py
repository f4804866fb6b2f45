"""indexes for the dispatcher's due queries (line order per state, next attempt per state)

Revision ID: 0003_dispatch_indexes
Revises: 0002_dispatcher_lease
"""
from alembic import op


revision = '0003_dispatch_indexes'
down_revision = '0002_dispatcher_lease'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_queue_entries_state_next', 'queue_entries', ['state', 'next_attempt_at'])
    op.create_index('ix_queue_entries_order', 'queue_entries',
                    ['skill', 'state', 'priority', 'arrived_at', 'id'])


def downgrade():
    op.drop_index('ix_queue_entries_order', table_name='queue_entries')
    op.drop_index('ix_queue_entries_state_next', table_name='queue_entries')
