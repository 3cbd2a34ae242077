"""Write operations of the exports app."""
