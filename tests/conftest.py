"""The test suite's root: with pytest's default import mode this folder is on ``sys.path``, so one test folder
uses another's helpers as modules of their folder (``from analysis.analysis_factories import record``)."""
