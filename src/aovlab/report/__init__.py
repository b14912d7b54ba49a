"""Rendering results: terminal tables and files (CSV, JSON, Parquet)."""
