"""sync_provider: closed-loop cluster optimisation for recurring Spark jobs on Databricks, inside Airflow."""

__version__ = "0.1.0"
