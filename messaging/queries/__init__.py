"""Reads with a fixed number of SQL queries whatever the data size (tests pin the counts)."""
