"""The payee portal (/portal/): a payee's own finalised statements, invoices, balance and earnings,
for a user invited by staff. `services` invites and activates, `selectors` reads one payee's data,
`views` are the pages."""
