"""Tests of wattsup.results."""
