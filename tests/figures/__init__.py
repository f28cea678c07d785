"""Tests of wattsup.figures."""
