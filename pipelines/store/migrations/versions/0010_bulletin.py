"""bulletin: the monthly bulletins made (月通报) and each county's figures, score and rank in them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bulletins',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('last_night', sa.Date(), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.Column('weights', sa.Text(), nullable=False),
    sa.Column('out_dir', sa.Text(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('month')
    )
    op.create_table('bulletin_ranks',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('bottom', sa.Boolean(), nullable=False),
    sa.Column('consecutive', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'county_code')
    )


def downgrade() -> None:
    op.drop_table('bulletin_ranks')
    op.drop_table('bulletins')
