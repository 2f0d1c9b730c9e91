"""Renderers: pure functions of one result object to text."""
