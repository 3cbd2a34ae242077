"""Read operations of the settlement app."""
