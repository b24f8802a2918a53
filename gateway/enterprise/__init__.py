"""The inspected enterprise's side (issue 17): access codes, notices and the enterprise portal."""
