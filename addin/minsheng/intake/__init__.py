"""Returned forms (收集): reading each file into a submission and its problems, and choosing among a unit's files."""
