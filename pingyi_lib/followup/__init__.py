"""Stage 4b, what was fixed: rectification ledger, reporting timeline, look-back against last year."""
