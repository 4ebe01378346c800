"""Stage 2, reading and validation: the tables of the contract, files to raw frames,
raw frames to clean tables + quarantine."""
