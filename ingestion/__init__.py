"""Invoice files from the inbound FTP server: download, parse, validate, store, email."""
