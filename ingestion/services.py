"""Write operations of the ingestion app."""
