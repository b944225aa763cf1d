"""Segment migration: how customers moved between segments from one period to the next."""
from __future__ import annotations

import pandas as pd

NONE_LABEL = "(none)"
"""Migration row/column of customers without a label in one of the two periods."""


def _label_order(*series: pd.Series) -> list[str]:
    """Categories in their categorical order (first series first), else sorted."""
    order: list[str] = []
    plain: set[str] = set()
    for s in series:
        if isinstance(s.dtype, pd.CategoricalDtype):
            order += [str(c) for c in s.cat.categories if str(c) not in order]
        else:
            plain |= {str(v) for v in s.dropna().unique()}
    return order + sorted(plain - set(order) - {NONE_LABEL})


def segment_migration(prev_labels: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """Customers moving between segments from one period to the next, as counts.

    Parameters
    ----------
    prev_labels, labels
        Segment (RFM segment, behaviour group, ...) per customer, indexed by
        ``customer_id``, of the previous and of this period. A customer missing from one
        side, or with an empty label, counts as ``(none)`` on that side.

    Returns
    -------
    Square DataFrame of counts: rows = previous segment (index name ``previous``),
    columns = this period's segment (``current``), the same labels on both axes in the
    categorical order of the inputs (else sorted) with ``(none)`` last. Row ``(none)``
    holds the customers who entered, column ``(none)`` those who left; the cell
    ``(none) → (none)`` is 0.
    """
    order = _label_order(prev_labels, labels) + [NONE_LABEL]
    both = pd.concat([prev_labels.astype(object).rename("previous"),
                      labels.astype(object).rename("current")], axis=1, join="outer")
    both = both.where(both.notna(), NONE_LABEL).astype(str)
    counts = both.groupby(["previous", "current"]).size()
    matrix = (counts.unstack(fill_value=0)
              .reindex(index=order, columns=order, fill_value=0).astype("int64"))
    matrix.index.name, matrix.columns.name = "previous", "current"
    return matrix


def migration_shares(matrix: pd.DataFrame) -> pd.DataFrame:
    """Row percentages of a migration matrix: of the customers in a previous segment, the
    % in each segment now. Rows sum to 100; an empty row is NaN."""
    totals = matrix.sum(axis=1)
    return matrix.div(totals.where(totals > 0), axis=0) * 100
