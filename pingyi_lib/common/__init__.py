"""Stage 0, used by all: exceptions, the one rounding and number-writing rule, page names, plain values,
personal values masked for publishing."""
