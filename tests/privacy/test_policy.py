"""Every column of storage/models.py is classified by privacy/policy.py: a new column holding personal
data cannot slip in without a retention kind (add it to PERSONAL, or to NOT_PERSONAL if it is not)."""
from privacy.policy import NOT_PERSONAL, PERSONAL, RETENTION
from storage.models import Base


def test_every_column_is_classified_once():
    columns = {f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns}
    not_personal = {f"{table}.{name}" for table, names in NOT_PERSONAL.items() for name in names}
    assert columns - set(PERSONAL) - not_personal == set(), "classify these columns in privacy/policy.py"
    assert set(PERSONAL) & not_personal == set()
    assert (set(PERSONAL) | not_personal) - columns == set(), "privacy/policy.py names columns that are gone"
    assert set(PERSONAL.values()) <= set(RETENTION)
