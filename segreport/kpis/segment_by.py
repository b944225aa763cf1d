"""What ``segment_by`` may cut the report by, and the cut itself.

``segment`` keeps the customers table's segments, another text column of the customers
table (e.g. ``region``) takes its values, and ``rfm`` takes each customer's named RFM
segment at the period end.
"""
from __future__ import annotations

import pandas as pd

from segreport import columns as C
from segreport.data.dataset import Dataset, DatasetInfo
from segreport.errors import ConfigError
from segreport.kpis.segmentation.rfm import RFM_SEGMENT, RFM_SEGMENTS, rfm_scores
from segreport.kpis.targets import check_target_names

RFM = "rfm"
NO_RECENT_ORDER = "No order in 12 months"


def segment_by_choices(info: DatasetInfo) -> list[str]:
    """What ``segment_by`` may name: a text column of the customers table, or ``rfm``."""
    return list(info.segment_values) + [RFM]


def check_segment_by(info: DatasetInfo, segment_by: str) -> None:
    """Reject a ``segment_by`` that is neither a text column of the customers table nor rfm."""
    if segment_by != C.SEGMENT and segment_by not in segment_by_choices(info):
        raise ConfigError(f"segment_by {segment_by!r}: choose one of "
                          f"{', '.join(segment_by_choices(info))}")


def check_targets_in(info: DatasetInfo, targets: dict | None, segment_by: str = C.SEGMENT) -> None:
    """Reject ``targets`` naming a segment (under ``segment_by``) or business unit the data
    does not have (see :func:`segreport.kpis.targets.check_target_names`)."""
    if targets:
        check_target_names(targets, segment_names(info, segment_by), info.units,
                           info.user_column(C.CUSTOMERS, segment_by),
                           info.user_column(C.CUSTOMERS, C.BUSINESS_UNIT))


def resegment(facts: pd.DataFrame, dataset: Dataset, segment_by: str, end: pd.Timestamp) -> pd.DataFrame:
    """``facts`` with its ``segment`` column re-cut by ``segment_by``.

    ``segment`` keeps the customers table's segments; another customers column (e.g.
    ``region``) takes its values (empty → ``Unassigned``); ``rfm`` takes each customer's
    named RFM segment at ``end`` (customers without an order in the year before ``end``:
    ``No order in 12 months``). Returns a new frame.
    """
    if segment_by == C.SEGMENT:
        return facts.copy()
    check_segment_by(dataset.info(), segment_by)
    out = facts.copy()
    if segment_by == RFM:
        names = rfm_scores(facts, end)[RFM_SEGMENT].astype(str)
        out[C.SEGMENT] = names.reindex(out.index).fillna(NO_RECENT_ORDER)
    else:
        values = dataset.customers.set_index(C.CUSTOMER_ID)[segment_by]
        out[C.SEGMENT] = (values.reindex(out.index).astype(object)
                          .where(lambda v: v.notna(), C.UNASSIGNED).astype(str))
    return out


def segment_names(info: DatasetInfo, segment_by: str = C.SEGMENT) -> list[str]:
    """Every segment name the report can show under ``segment_by``, for stable colours."""
    if segment_by == RFM:
        return list(RFM_SEGMENTS) + [NO_RECENT_ORDER]
    return info.segment_values.get(segment_by, info.segments)
