"""Tests of wattsup.bench."""
