"""Bulk import of the directories from CSV and XLSX files."""
from gateway.directory.importing.importer import ImportReport, RowError, import_file

__all__ = ["ImportReport", "RowError", "import_file"]
