"""The Settle JSON API: settlement structures, aggregation, settle, clear, history."""
