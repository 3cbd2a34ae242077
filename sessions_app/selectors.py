"""Read operations of the sessions_app app."""
