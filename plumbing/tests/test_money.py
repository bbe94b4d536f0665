"""Money: the most one order may cost, and 64-bit money columns in every database."""
import pytest
import sqlalchemy as sa

from plumbing import money, settings
from plumbing.errors import BadRequest

# Every column that holds fen, by service and table.
MONEY_COLUMNS = {
    "orders": {"orders": ["unit_price", "amount"]},
    "payments": {"payments": ["amount"], "refunds": ["amount"], "ledger_postings": ["amount"],
                 "sandbox_orders": ["amount"], "sandbox_refunds": ["amount", "total"]},
    "teams": {"seats": ["unit_price"]},
}


def test_an_order_may_cost_up_to_ten_million_yuan():
    assert money.order_amount(99_999_999, 10) == 999_999_990
    assert money.order_amount(100_000_000, 10) == money.MAX_ORDER_FEN


def test_more_is_refused_with_how_many_would_do():
    with pytest.raises(BadRequest) as refused:
        money.order_amount(99_999_999, 22)  # 2,199,999,978 fen: past a 32-bit column
    assert refused.value.code == "order_amount_too_large"
    assert refused.value.details == {"quantity": ["At most 10 at this price."]}
    assert "10000000.00" in refused.value.message and "999999.99" in refused.value.message


@pytest.mark.parametrize("service", sorted(MONEY_COLUMNS))
def test_money_columns_are_64_bit_on_postgresql(migrated, service):
    engine = sa.create_engine(settings.database_url(service))
    try:
        inspector = sa.inspect(engine)
        narrow = [f"{table}.{column['name']}: {column['type']}"
                  for table, names in MONEY_COLUMNS[service].items()
                  for column in inspector.get_columns(table)
                  if column["name"] in names and not isinstance(column["type"], sa.BigInteger)]
    finally:
        engine.dispose()
    assert narrow == []
