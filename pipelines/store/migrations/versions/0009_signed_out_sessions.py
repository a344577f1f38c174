"""the site's sessions ended by signing out (a copy of the cookie kept from before opens nothing)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signed_out_sessions',
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('session_id')
    )


def downgrade() -> None:
    op.drop_table('signed_out_sessions')
