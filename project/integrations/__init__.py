"""The external systems the project talks to, each behind one module with a narrow interface:

- `ftp`: the inbound (invoices) and outbound (session CSV) FTP/FTPS servers.
- `ssh`: files on the log host (the receiver's log), over SSH/SFTP through PyFilesystem.
- `s3`: presigned URLs for direct uploads to the S3 storage (objects themselves go through
  `project.storage`).

SMTP is Django's email backend (configured from `EMAIL_URL` in `project/email_url.py`, used only by
`project.mail`); Moneybird lives in `exports/moneybird.py`, its only user.
"""
