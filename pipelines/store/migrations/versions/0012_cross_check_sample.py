"""the cross-check sample (交叉检查抽样): one row per drawn sample; households found by village

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cross_check_samples',
    sa.Column('sample_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('data_date', sa.Date(), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('villages', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('drawn', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('sample_id'),
    sa.UniqueConstraint('county_code', 'year', 'seed', 'data_date', name='uq_cross_check_samples_draw')
    )
    op.create_index('ix_cross_check_samples_county', 'cross_check_samples', ['county_code', 'sample_id'])
    op.create_index('ix_households_village', 'households', ['village_code'])


def downgrade() -> None:
    op.drop_index('ix_households_village', table_name='households')
    op.drop_index('ix_cross_check_samples_county', table_name='cross_check_samples')
    op.drop_table('cross_check_samples')
