"""Tests of wattsup.sweep."""
