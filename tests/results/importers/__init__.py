"""Tests of wattsup.results.importers."""
