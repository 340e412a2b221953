"""`monitor spillover`: connectedness tables from a CSV file (filled in by the spillover engine work)."""
