"""Tests of wattsup.analysis."""
