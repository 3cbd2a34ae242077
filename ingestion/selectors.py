"""Read operations of the ingestion app."""
