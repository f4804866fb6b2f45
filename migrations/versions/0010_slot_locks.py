"""one row per skill that bookings of a start time take first, so two cannot both take its last place

Revision ID: 0010_slot_locks
Revises: 0009_estimate_indexes
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_slot_locks'
down_revision = '0009_estimate_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'slot_locks',
        sa.Column('skill', sa.String(length=64), primary_key=True),
        sa.Column('taken', sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table('slot_locks')
