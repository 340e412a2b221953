"""DATA IN: getting and keeping time series (sources, HTTP policy, validation, the SQLite store)."""
