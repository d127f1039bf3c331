"""Reports for everyone who reads the programme: the dashboard, the wave report, exports and PDFs."""
