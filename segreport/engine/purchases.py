"""Every customer's purchase summary at a date (frequency, recency, age, monetary value),
computed where the data lives: the input of the predictive CLV."""
from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from segreport import columns as C
from segreport.data.rfm_summary import AGE, FREQUENCY, MONETARY_VALUE, RECENCY
from segreport.engine.backend import EngineData, fetched
from segreport.engine.panel import customer_base, sorted_rows


def purchase_summary(data: EngineData, end: pd.Timestamp, segment_by: str = C.SEGMENT,
                     base: ir.Table | None = None) -> pd.DataFrame:
    """:func:`segreport.data.rfm_summary.clv_summary` of every customer at ``end``
    (exclusive), plus ``business_unit``: purchase days (days with an order of amount > 0),
    refunds netted by day, sorted by ``customer_id``. ``base`` gives each customer's
    segment and unit (default: :func:`customer_base`)."""
    end = pd.Timestamp(end).normalize()
    orders = data.tables[C.ORDERS]
    rows = orders.filter(orders[C.ORDER_DATE] < end.to_pydatetime())
    rows = rows.mutate(day=rows[C.ORDER_DATE].truncate("D"))
    days = rows.group_by([C.CUSTOMER_ID, "day"]).aggregate(
        net=rows[C.AMOUNT].sum(), top=rows[C.AMOUNT].max())
    days = days.filter(days["top"] > 0)
    per = days.group_by(C.CUSTOMER_ID).aggregate(
        first_day=days["day"].min(), last_day=days["day"].max(), n=days.count(),
        total=days["net"].sum(), first_net=days["net"].argmin(days["day"]))
    base = (customer_base(data, segment_by) if base is None else base).select(
        C.CUSTOMER_ID, C.SEGMENT, C.BUSINESS_UNIT)
    summary = per.left_join(base, C.CUSTOMER_ID)
    day_seconds = 86400.0
    freq = (summary["n"] - 1).cast("int64")
    out = fetched(summary.select(
        summary[C.CUSTOMER_ID],
        **{FREQUENCY: freq,
           RECENCY: (summary["last_day"].epoch_seconds() - summary["first_day"].epoch_seconds())
           / day_seconds,
           AGE: (ibis.literal(end.to_pydatetime()).epoch_seconds()
                 - summary["first_day"].epoch_seconds()) / day_seconds,
           MONETARY_VALUE: ibis.ifelse(freq > 0, (summary["total"] - summary["first_net"])
                                       / freq.cast("float64"), 0.0),
           C.SEGMENT: summary[C.SEGMENT].fill_null(C.UNASSIGNED),
           C.BUSINESS_UNIT: summary[C.BUSINESS_UNIT].fill_null(C.UNASSIGNED)},
    ))
    for col in (RECENCY, AGE, MONETARY_VALUE):
        out[col] = out[col].astype("float64")
    out[FREQUENCY] = out[FREQUENCY].astype("int64")
    out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype(str)
    return sorted_rows(out, [C.CUSTOMER_ID])


__all__ = ["purchase_summary"]
