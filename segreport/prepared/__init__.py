"""Prepared data: computed once from the source, kept in a folder, read by every report."""
