"""nights: the nights opened, images of the tables a night rewrites in place, and undone nights

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nights',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date')
    )
    op.create_table('night_images',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('row', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date', 'table_name', 'row_no')
    )
    op.create_table('night_undos',
    sa.Column('undo_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('source_dir', sa.Text(), nullable=True),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('undo_id')
    )


def downgrade() -> None:
    op.drop_table('night_undos')
    op.drop_table('night_images')
    op.drop_table('nights')
