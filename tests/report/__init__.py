"""The report's tests: a package, so that they import helpers of other test folders as modules of theirs
(``analysis.analysis_factories``) with pytest's default import mode."""
