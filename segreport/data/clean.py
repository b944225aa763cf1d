"""Cleaning a data set read: orders of unknown customers, duplicate rows and unassigned
segments, each dropped or marked and recorded as a data-quality note."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from segreport import columns as C
from segreport.data.dataset import (
    DUPLICATES_NOTE,
    Dataset,
    QualityNote,
    unassigned_note,
    unknown_customers_note,
)
from segreport.data.table_files import count_of, row_label, row_numbers
from segreport.errors import DataError


def _unique_customers(customers: pd.DataFrame, path: Path, user_col: str) -> None:
    dup = customers[C.CUSTOMER_ID].duplicated(keep=False)
    if dup.any():
        ids = customers.loc[dup, C.CUSTOMER_ID].unique()
        raise DataError(str(path), count_of(len(ids), "customer id appears", "customer ids appear")
                        + " more than once",
                        user_col, values=ids[:5].tolist(), rows=row_numbers(path, dup),
                        row_label=row_label(path),
                        hint="keep one row per customer")


def clean_customers(ds: Dataset, mapping: dict[str, str]) -> None:
    cust = ds.customers
    if cust is None:
        return
    path = ds.files[C.CUSTOMERS]
    _unique_customers(cust, path, mapping.get(C.CUSTOMER_ID, C.CUSTOMER_ID))
    reserved = cust[C.SEGMENT] == C.ALL_SEGMENTS
    if reserved.any():
        raise DataError(str(path), f"segment name '{C.ALL_SEGMENTS}' is reserved for the whole "
                        "unit", mapping.get(C.SEGMENT, C.SEGMENT), values=[C.ALL_SEGMENTS],
                        rows=row_numbers(path, reserved), row_label=row_label(path),
                        hint="rename that segment in your file (e.g. 'All customers')")
    for col in (C.SEGMENT, C.BUSINESS_UNIT):
        empty = cust[col].isna()
        if empty.any():
            cust.loc[empty, col] = C.UNASSIGNED
            ds.quality.append(QualityNote(C.CUSTOMERS, path.name, len(cust), 0,
                                          unassigned_note(int(empty.sum()), col)))
    if C.CHURN_DATE in cust:
        early = cust[C.CHURN_DATE].notna() & cust[C.SIGNUP_DATE].notna() & (
            cust[C.CHURN_DATE] < cust[C.SIGNUP_DATE])
        if early.any():
            signup = mapping.get(C.SIGNUP_DATE, C.SIGNUP_DATE)
            raise DataError(str(path), count_of(int(early.sum()), "churn date", "churn dates")
                            + f" before the signup date ({signup})",
                            mapping.get(C.CHURN_DATE, C.CHURN_DATE),
                            values=cust.loc[early, C.CUSTOMER_ID].head(5).tolist(),
                            rows=row_numbers(path, early), row_label=row_label(path),
                            hint="the values shown are customer ids; a customer cannot churn "
                                 "before signing up")


def check_unknown_share(orders_file: str, column: str, unknown_rows: int, rows: int,
                        examples, customers_file: str, max_pct: float | None) -> None:
    """Stop when more than ``max_pct`` % of the order rows belong to customer ids missing
    from the customers table (``None``: no limit); below it they are set aside."""
    if max_pct is None or rows == 0 or unknown_rows / rows * 100 <= max_pct:
        return
    raise DataError(orders_file, f"{unknown_rows:,} of {rows:,} order rows "
                    f"({unknown_rows / rows * 100:.1f} %) belong to customer ids not in "
                    f"{customers_file}, more than the {max_pct:g} % allowed", column,
                    values=list(examples)[:5],
                    hint="check that both files use the same customer ids and that the "
                         "customers table is complete, or raise max_unknown_customer_pct "
                         "in the params file")


def clean_orders(ds: Dataset, mapping: dict[str, str] | None = None,
                  max_unknown_customer_pct: float | None = None) -> None:
    orders = ds.orders
    path = ds.files[C.ORDERS]
    dup = orders.duplicated(keep="first")
    if dup.any():
        orders = orders[~dup]
        ds.quality.append(QualityNote(C.ORDERS, path.name, len(dup), int(dup.sum()),
                                      DUPLICATES_NOTE))
    if ds.customers is not None:
        unknown = ~orders[C.CUSTOMER_ID].isin(ds.customers[C.CUSTOMER_ID])
        if unknown.all():
            customers_file = ds.files[C.CUSTOMERS].name
            theirs = ", ".join(map(repr, ds.customers[C.CUSTOMER_ID].head(3)))
            raise DataError(
                str(path), f"none of the customer ids is in {customers_file}",
                (mapping or {}).get(C.CUSTOMER_ID, C.CUSTOMER_ID),
                values=orders[C.CUSTOMER_ID].unique()[:5].tolist(),
                hint=f"ids in {customers_file} look like {theirs}; both files must use the "
                     "same customer ids")
        if unknown.any():
            ids = orders.loc[unknown, C.CUSTOMER_ID].unique()
            check_unknown_share(str(path), (mapping or {}).get(C.CUSTOMER_ID, C.CUSTOMER_ID),
                                int(unknown.sum()), len(orders), ids,
                                ds.files[C.CUSTOMERS].name, max_unknown_customer_pct)
            ds.quality.append(QualityNote(
                C.ORDERS, path.name, len(orders), int(unknown.sum()),
                unknown_customers_note(len(ids), ids[:3], orders.loc[unknown, C.AMOUNT].sum(),
                                       ds.files[C.CUSTOMERS].name)))
            orders = orders[~unknown]
    ds.tables[C.ORDERS] = orders.reset_index(drop=True)
