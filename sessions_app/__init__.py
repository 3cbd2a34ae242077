"""The operators' daily shipping session: the four-button page and the session run."""
