"""The ledger of every inspection of a target (issue 16): drawn tasks, higher-level inspections and
inspections registered outside the draw, and the yearly caps the county office publishes."""
