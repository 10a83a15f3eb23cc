"""Judging (研判): each indicator's status against the time schedule, the roll-ups, and one period's result."""
