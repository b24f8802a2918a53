"""Handlers of the platform's endpoints, one module per audience (senders, public, tests)."""
