"""the rate limiter's shared counters on the app's own database, and Idempotency-Key answers

Revision ID: 0007_shared_counters_idempotency
Revises: 0006_merge_and_slip_indexes
"""
import sqlalchemy as sa
from alembic import op


revision = '0007_shared_counters_idempotency'
down_revision = '0006_merge_and_slip_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_counters',
        sa.Column('key', sa.String(length=64), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_rate_counters_expires_at', 'rate_counters', ['expires_at'])
    op.create_table(
        'idempotency_keys',
        sa.Column('key_hash', sa.String(length=64), primary_key=True),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('entry_public_id', sa.String(length=32), nullable=False),
        sa.Column('sealed_token', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_idempotency_keys_expires_at', 'idempotency_keys', ['expires_at'])


def downgrade():
    op.drop_index('ix_idempotency_keys_expires_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_rate_counters_expires_at', table_name='rate_counters')
    op.drop_table('rate_counters')
