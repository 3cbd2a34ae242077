"""Read operations of the statements app."""
