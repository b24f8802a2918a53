"""Inspections by higher-level authorities (article 15): imported records that exclude targets."""
