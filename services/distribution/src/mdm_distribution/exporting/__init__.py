"""Bulk export of golden records (CSV, Parquet), filtered by purpose and change time:
the same code behind ``mdm export`` (through the gateway) and the export job (in the
distribution worker)."""
