"""Shuangsui Gateway (双随): cross-department "double random, one public" joint inspections."""

__version__ = "0.1.0"
