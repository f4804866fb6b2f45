"""indexes for the wait estimate's reads: recent handle times and recent holders' patience

Revision ID: 0009_estimate_indexes
Revises: 0008_prod_privacy_requests
"""
from alembic import op


revision = '0009_estimate_indexes'
down_revision = '0008_prod_privacy_requests'
branch_labels = None
depends_on = None


def upgrade():
    # The skill's last completed entries, latest closed first (routing/estimate.py: handle_time).
    op.create_index('ix_queue_entries_skill_state_closed', 'queue_entries', ['skill', 'state', 'closed_at'])
    # The skill's holders who arrived in the last hour (routing/estimate.py: abandon_rate).
    op.create_index('ix_queue_entries_skill_kind_arrived', 'queue_entries', ['skill', 'kind', 'arrived_at'])


def downgrade():
    op.drop_index('ix_queue_entries_skill_kind_arrived', table_name='queue_entries')
    op.drop_index('ix_queue_entries_skill_state_closed', table_name='queue_entries')
