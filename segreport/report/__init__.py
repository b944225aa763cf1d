"""Running the notebook (papermill), rendering it (nbconvert) and what the notebook shows."""
