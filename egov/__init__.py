"""Shared core of egov-eval: settings, errors, the database and the pipelines that join
the pure engine (`evaluation`) to stored data."""

__version__ = "0.1.0"
