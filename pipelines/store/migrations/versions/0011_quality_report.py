"""the pre-audit data-quality report (数据质量报告): one row per report, its values per region and indicator

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_reports',
    sa.Column('report_night', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('compared_with', sa.Date(), nullable=True),
    sa.Column('made_by', sa.Text(), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('pdf', sa.Text(), nullable=True),
    sa.Column('xlsx', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('report_night')
    )
    op.create_table('quality_report_values',
    sa.Column('report_night', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('report_night', 'region_code', 'indicator')
    )


def downgrade() -> None:
    op.drop_table('quality_report_values')
    op.drop_table('quality_reports')
