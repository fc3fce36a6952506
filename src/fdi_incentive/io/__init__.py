"""Reading and writing project files: CSV (UTF-8 or GBK), Excel, Parquet, JSON Lines. Knows no rule."""
