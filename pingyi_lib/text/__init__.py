"""Stage 4a, what the public wrote: masking of personal data, main-problem themes, keywords."""
