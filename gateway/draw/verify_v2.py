"""Verifying a ``shuangsui.draw/2`` record: whole and streaming, or one stratum alone.

The code lives in :mod:`gateway.draw.verify` (which :func:`~gateway.draw.verify.verify_record`
dispatches to for a version 2 record); this module names its entry points.
"""
from gateway.draw.verify import StreamVerifier, verify_file, verify_stratum, verify_whole

__all__ = ["StreamVerifier", "verify_file", "verify_stratum", "verify_whole"]
