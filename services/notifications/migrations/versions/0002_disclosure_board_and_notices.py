"""disclosure board and notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:26:57.631498

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The disclosure board (periods, obligations, publications, alerts), notices with their audiences and
    sign-ups, and residents' buildings on the membership copy (refilled by the next registry resync)."""
    op.create_table('disclosure_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('publisher_kind', sa.String(length=20), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_alerts')),
    sa.UniqueConstraint('compound_id', 'item_code', 'publisher_kind', 'publisher_id', 'due_on', 'kind', name='uq_disclosure_alerts')
    )
    op.create_table('disclosure_obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('publisher_kind', sa.String(length=20), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_obligations')),
    sa.UniqueConstraint('compound_id', 'item_code', 'publisher_kind', 'publisher_id', name='uq_disclosure_obligations')
    )
    with op.batch_alter_table('disclosure_obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_obligations_compound_id'), ['compound_id'], unique=False)

    op.create_table('disclosure_periods',
    sa.Column('county_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('freshness_days', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('county_id', 'item_code', name=op.f('pk_disclosure_periods'))
    )
    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('publisher_kind', sa.String(length=20), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_board', ['compound_id', 'item_code', 'publisher_kind', 'publisher_id', 'published_at'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('compound_ids', sa.JSON(), nullable=False),
    sa.Column('buildings', sa.JSON(), nullable=False),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('publisher_kind', sa.String(length=20), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('signup', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('signups', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_region_path'), ['region_path'], unique=False)

    op.create_table('notice_audiences',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_audiences_notice_id_notices')),
    sa.PrimaryKeyConstraint('notice_id', 'compound_id', 'building', name=op.f('pk_notice_audiences'))
    )
    with op.batch_alter_table('notice_audiences', schema=None) as batch_op:
        batch_op.create_index('ix_notice_audiences_place', ['compound_id', 'building'], unique=False)

    op.create_table('signups',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('signed_up_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_signups_notice_id_notices')),
    sa.PrimaryKeyConstraint('notice_id', 'account_id', name=op.f('pk_signups'))
    )
    with op.batch_alter_table('membership_copies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('building', sa.String(length=20), nullable=True))
    op.execute("DELETE FROM sync_state")  # resync: the snapshot carries buildings



def downgrade() -> None:
    """Drop the board and notices."""
    with op.batch_alter_table('membership_copies', schema=None) as batch_op:
        batch_op.drop_column('building')

    op.drop_table('signups')
    with op.batch_alter_table('notice_audiences', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_audiences_place')

    op.drop_table('notice_audiences')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_region_path'))

    op.drop_table('notices')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_board')

    op.drop_table('disclosures')
    op.drop_table('disclosure_periods')
    with op.batch_alter_table('disclosure_obligations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_obligations_compound_id'))

    op.drop_table('disclosure_obligations')
    op.drop_table('disclosure_alerts')
