"""The figures' tests (a package: they use helpers of other test folders as ``analysis.…``)."""
