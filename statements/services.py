"""Write operations of the statements app."""
