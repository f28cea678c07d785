"""Tests of wattsup.report."""
