"""Reusable UI pieces. Components take data (vars and values), never a State class."""
