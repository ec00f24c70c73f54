"""Fixtures every test directory may use."""

from tests.pg import schema

__all__ = ["schema"]  # the throwaway PostgreSQL schema (tests/pg.py)
