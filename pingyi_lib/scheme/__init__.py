"""Stage 1, the scheme as data: the ruleset TOML (every weight, threshold, label) and its validation."""
