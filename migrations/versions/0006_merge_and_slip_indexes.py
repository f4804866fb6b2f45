"""indexes for merging a number's requests across channels and for re-estimating told windows

Revision ID: 0006_merge_and_slip_indexes
Revises: 0005_promise_windows
"""
from alembic import op


revision = '0006_merge_and_slip_indexes'
down_revision = '0005_promise_windows'
branch_labels = None
depends_on = None


def upgrade():
    # A connected number's other waiting requests (callbacks/services.close_other_requests).
    op.create_index('ix_queue_entries_phone_state', 'queue_entries', ['phone_number', 'state'])
    # Waiting callbacks whose told window ends first (callbacks/dispatch/slips.py).
    op.create_index('ix_queue_entries_state_promised', 'queue_entries', ['state', 'promised_by'])


def downgrade():
    op.drop_index('ix_queue_entries_state_promised', table_name='queue_entries')
    op.drop_index('ix_queue_entries_phone_state', table_name='queue_entries')
