"""Read operations of the exports app."""
