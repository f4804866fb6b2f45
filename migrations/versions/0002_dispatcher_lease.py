"""dispatcher lease: which process runs the scheduler

Revision ID: 0002_dispatcher_lease
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0002_dispatcher_lease'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dispatcher_leases',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=120), nullable=False),
        sa.Column('expires_at', storage.models.UTCDateTime(), nullable=False),
        sa.Column('acquired_at', storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('dispatcher_leases')
