"""Royalty accounting on top of statement runs (issue 17): contracts and splits applied to a run's
converted sales lines, recoupment, reserves, balances carried forward, payee statements.

`calculation` computes a run's statements (a draft can be recomputed freely), `services` posts a
finalised run to the ledger, `selectors` presents statements, `documents` renders PDF/xlsx/zip.
"""
