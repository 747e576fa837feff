"""The ``neyman`` command line: parsing and printing only."""
