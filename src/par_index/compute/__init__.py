"""Scoring: pure functions over prepared tables; imports spec, tables and errors only."""
