"""What several test folders build on: records and stores with chosen figures, and where the repository
and the wattsup under test are (for tests that start interpreters of their own)."""
