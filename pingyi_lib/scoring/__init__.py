"""Stage 3, counting, scoring and consequences: answer counts, indices, composite, ranks, flags, Results."""
