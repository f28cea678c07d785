"""Tests of wattsup.records."""
