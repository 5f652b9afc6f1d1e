"""registry copy: households, contract, companies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:29:58.630713

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
    """Companies and compounds' households and contract join the registry copy."""
    op.create_table('company_copies',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('state_owned', sa.Boolean(), nullable=False),
    sa.Column('party_organization_form', sa.String(length=20), nullable=False),
    sa.Column('source_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_copies'))
    )
    with op.batch_alter_table('compound_copies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('households', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('contract_id', sa.Integer(), nullable=True))
    # the copy now holds more of the registry: fetch the snapshot again on the next start
    op.execute("DELETE FROM sync_state")


def downgrade() -> None:
    with op.batch_alter_table('compound_copies', schema=None) as batch_op:
        batch_op.drop_column('contract_id')
        batch_op.drop_column('households')

    op.drop_table('company_copies')
