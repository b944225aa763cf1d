"""Reading, column mapping, validation and the per-customer facts."""
from segreport.data.dataset import Dataset
from segreport.data.facts import customer_facts, period_facts
from segreport.data.read import read_dataset

__all__ = ["Dataset", "read_dataset", "customer_facts", "period_facts"]
