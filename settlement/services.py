"""Write operations of the settlement app."""
