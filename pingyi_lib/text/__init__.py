"""Stage 4a, what the public wrote: main-problem themes, praise, unthemed comments, keywords."""
