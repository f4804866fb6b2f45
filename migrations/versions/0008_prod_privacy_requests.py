"""privacy_requests: a record of each export or erasure of what is held about a number (never the number)

Revision ID: 0008_prod_privacy_requests
Revises: 0007_shared_counters_idempotency
"""
import sqlalchemy as sa
from alembic import op


revision = '0008_prod_privacy_requests'
down_revision = '0007_shared_counters_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'privacy_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table('privacy_requests')
