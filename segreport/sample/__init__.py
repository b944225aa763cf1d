"""Deterministic, realistic sample data for the segment KPI report.

The generator simulates a multi-year business with three business units and four
customer segments, then writes one file per table of the data contract
(:data:`segreport.columns.CONTRACT`). It is seeded (one :class:`numpy.random.Generator`
per stage, all derived from ``seed``) and fully vectorised, so the default size
(50,000 customers, about a million order rows) takes a few seconds, and the same seed
always gives the same content.

Customers are simulated in blocks of :data:`BLOCK_CUSTOMERS` (250,000; about 5 million
order rows) and every table is streamed to its file block by block (Parquet row groups of
1,048,576 rows, CSV appended), so memory stays around 1 GB at any size: 5,000,000
customers give about 100 million order rows. A sample of at most one block is simulated
exactly as it always was. Each further block has its own random streams, derived from
``seed`` and the block number; what concerns the whole business (the quarterly signup
shocks, the spend, market and cost noise) is drawn once, and the quarter tables are built
from counts summed over the blocks.

Tables
------
customers
    One row per customer: ``customer_id`` (``"C000001"``, numbered in signup order
    within a block, the next block continuing the numbering; more digits from a million
    customers on),
    ``signup_date``, ``segment``, ``business_unit`` and the profile columns ``age``
    (integer), ``gender``, ``income``, ``region`` and ``acquisition_channel``. About 5-10 %
    of every profile column is missing; required columns are never missing. With
    ``subscription=True`` a ``churn_date`` column holds the latent churn date, empty when
    the customer has not churned by ``end``.
orders
    One row per order or refund: ``order_id`` (``"O0000001"``, numbered by order date
    within a block of customers, the next block continuing the numbering; more digits
    from ten million orders on), ``customer_id``, ``order_date``, ``amount`` (rounded to
    cents) and ``margin`` (gross margin, 25-45 % of the amount). About 3 % of the rows
    are refunds: a negative amount and margin, dated after the original order and reusing
    its ``order_id``. Rows are sorted by ``order_date`` within each block of customers:
    a sample of one block (up to 250,000 customers) is sorted by date as a whole, a
    larger one is a sequence of date-sorted runs, one per block (an order and its refunds
    are always in the same run, the refunds after the order).
marketing_spend
    One row per quarter x segment x business unit: ``acquisition_spend`` (driven by the
    quarter's new customers) and ``retention_spend`` (driven by the quarter's active
    customers).
surveys
    Survey answers from a few percent of the active customers each quarter:
    ``customer_id``, ``response_date``, ``nps`` (0-10), ``csat`` (1-5), ``aware`` (0/1) and
    ``perceived_quality`` (1-5). Sorted by ``response_date`` within each block, like the
    orders.
market_size
    One row per quarter x segment x business unit: ``market_customers``, the addressable
    customers, a few times the active base and growing slowly.
segmentation_costs
    One row per quarter x business unit: ``cost`` of running the segmentation programme.

Periods are strings such as ``"2026Q3"``. Parquet files hold real timestamp columns
(midnight); CSV files hold ISO dates ``YYYY-MM-DD`` and empty cells for missing values.

Simulated behaviour
-------------------
* **Business units and segments.** ``Retail``, ``Wholesale`` and ``Online`` differ in size,
  growth, segment mix (Wholesale has almost no Students, Online many), order frequency,
  basket size, weekly pattern (Wholesale orders on weekdays) and acquisition channels.
  ``Premium``, ``Standard``, ``Value`` and ``Students`` differ in size, signup growth
  (Premium fast, Standard moderate, Value flat, Students declining and volatile), churn
  hazard, order frequency, basket size, margin rate, survey scores and profile.
* **Signups.** About 35 % of the customers form an opening base that signed up in the
  four years before ``start`` and is still active at ``start`` (their orders before
  ``start`` are outside the extract). The others sign up between ``start`` and ``end``
  with a daily intensity that follows the segment and business-unit growth trends and a
  monthly seasonality (Q4 peak; back-to-school peak for Students).
* **Churn.** Every customer has a latent churn time drawn from a Weibull distribution
  (shape below one: new customers churn most) whose scale depends on segment and business
  unit. No order, refund or survey answer is dated on or after it.
* **Orders.** Most new customers order on their signup day; on top of that each customer
  orders as an inhomogeneous Poisson process from signup (or ``start``) until churn (or
  ``end``), with a per-customer frequency (segment x business unit x gamma frailty), a
  monthly seasonality (Q4 peak, Students peak in September) and a day-of-week pattern.
  Basket sizes are log-normal around a segment x business-unit x customer level, with
  a December uplift and 3 % yearly price inflation. Refunds follow an order by one day
  to a few weeks and are full or partial.
* **Spend, market and costs** are derived from the simulated customers, with noise, and
  scale with ``n_customers`` so that the ratios stay plausible at any size.

Examples
--------
>>> from segreport.sample import generate_sample
>>> paths = generate_sample("data/sample", n_customers=5_000)  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['customers', 'market_size', 'marketing_spend', 'orders', 'segmentation_costs', 'surveys']
"""
from __future__ import annotations

from segreport.sample.generate import BLOCK_CUSTOMERS, generate_sample, sample_tables
from segreport.sample.model import BUSINESS_UNITS, FORMATS, SEGMENTS

__all__ = ["BLOCK_CUSTOMERS", "BUSINESS_UNITS", "FORMATS", "SEGMENTS", "generate_sample",
           "sample_tables"]
