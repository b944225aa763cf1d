"""The sample's orders and refunds of a block of customers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from segreport import columns as col
from segreport.sample.model import (
    _ACQUISITION_ORDER_PROB,
    _BASKET_SD,
    _BU_BASKET,
    _BU_FREQ,
    _BU_MARGIN_SHIFT,
    _CUSTOMER_BASKET_SD,
    _DAYS_PER_YEAR,
    _FRAILTY_SHAPE,
    _INFLATION,
    _MONTHS_BASKET,
    _REFUND_PROB,
    _SEG_BASKET,
    _SEG_FREQ,
    _SEG_MARGIN,
    _Calendar,
    _ids,
    _Model,
)


def _order_draws(rng: np.random.Generator, model: _Model,
                 cust: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The first draws of the orders stream, which fix how many orders there are.

    Returns the customers' intensity cell and cumulative intensity at their first and
    stop day, the owner of every repeat order (customer index, ascending), the uniform
    placing each repeat order in time, and the new customers who order on their signup day.
    """
    seg, bu, first, stop = cust["seg"], cust["bu"], cust["first"], cust["stop"]
    n = len(seg)
    cell = bu * model.n_seg + seg
    lo, hi = model.cum[cell, first], model.cum[cell, stop]
    frailty = rng.gamma(_FRAILTY_SHAPE, 1.0 / _FRAILTY_SHAPE, n)
    rate = _SEG_FREQ[seg] * _BU_FREQ[bu] * frailty / _DAYS_PER_YEAR
    n_orders = rng.poisson(rate * (hi - lo))
    owner = np.repeat(np.arange(n), n_orders)
    where = rng.random(owner.size)
    # acquisition orders on the signup day of new customers
    buyer = np.flatnonzero((cust["signup"] >= 0) & (rng.random(n) < _ACQUISITION_ORDER_PROB))
    return cell, lo, hi, owner, where, buyer


def _simulate_orders(rngs: dict[str, np.random.Generator], model: _Model, cal: _Calendar,
                     cust: dict[str, np.ndarray]) -> dict[str, np.ndarray | int]:
    """Orders and refunds of a block of customers, sorted by date.

    Orders are numbered ``0 .. count - 1`` by (date, customer); a refund reuses the
    number of its order. Returns ``count`` and, per row, ``number``, ``owner`` (customer
    index in the block), ``day``, ``amount`` and ``margin``.
    """
    rng = rngs["orders"]
    seg, bu, first, stop = cust["seg"], cust["bu"], cust["first"], cust["stop"]
    n = len(seg)
    n_days = cal.n_days
    cell, lo, hi, owner, where, buyer = _order_draws(rng, model, cust)
    # invert the cumulative intensity of each order's cell
    target = lo[owner] + where * (hi - lo)[owner] + model.shift[cell[owner]]
    del where
    pos = np.searchsorted(model.shifted, target, side="right") - 1
    del target
    day = np.clip(pos - cell[owner] * (n_days + 1), first[owner], stop[owner] - 1)
    del pos

    owner = np.concatenate([owner, buyer])
    day = np.concatenate([day, cust["signup"][buyer]])
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    del order

    # basket size and margin
    s, b = seg[owner], bu[owner]
    level = _SEG_BASKET * np.exp(-_BASKET_SD ** 2 / 2)
    cust_level = np.exp(rng.normal(-_CUSTOMER_BASKET_SD ** 2 / 2, _CUSTOMER_BASKET_SD, n))
    amount = (level[s] * _BU_BASKET[b] * cust_level[owner] * _MONTHS_BASKET[cal.month[day]]
              * (1 + _INFLATION) ** cal.years[day]
              * np.exp(rng.normal(0.0, _BASKET_SD, owner.size)))
    amount = np.maximum(np.round(amount, 2), 1.0)
    rate = np.clip(_SEG_MARGIN[s] + _BU_MARGIN_SHIFT[b] + rng.normal(0.0, 0.025, owner.size),
                   0.25, 0.45)
    del s, b
    margin = np.round(amount * rate, 2)

    # refunds: after the order, before churn and ``end``; full or partial
    rng = rngs["refunds"]
    src = np.flatnonzero(rng.random(owner.size) < _REFUND_PROB)
    refund_day = day[src] + np.minimum(rng.geometric(0.12, src.size), 90)
    share = np.where(rng.random(src.size) < 0.75, 1.0, rng.uniform(0.1, 0.9, src.size))
    keep = refund_day < stop[owner[src]]
    src, refund_day, share = src[keep], refund_day[keep], share[keep]
    refund = np.maximum(np.round(amount[src] * share, 2), 0.01)
    refund_margin = np.round(refund * rate[src], 2)
    del rate

    count = owner.size
    all_day = np.concatenate([day, refund_day])
    order = np.argsort(all_day, kind="stable")
    return {
        "count": count,
        "number": np.concatenate([np.arange(count), src])[order],
        "owner": np.concatenate([owner, owner[src]])[order],
        "day": all_day[order],
        "amount": np.concatenate([amount, -refund])[order],
        "margin": np.concatenate([margin, -refund_margin])[order],
    }


def _orders_frame(cal: _Calendar, orders: dict[str, np.ndarray | int], first_order: int,
                  order_width: int, customer_width: int, cust_number: np.ndarray
                  ) -> pd.DataFrame:
    return pd.DataFrame({
        col.ORDER_ID: _ids("O", orders["number"] + (first_order + 1), order_width),
        col.CUSTOMER_ID: _ids("C", cust_number[orders["owner"]], customer_width),
        col.ORDER_DATE: cal.dates(orders["day"]),
        col.AMOUNT: orders["amount"],
        col.MARGIN: orders["margin"],
    })
