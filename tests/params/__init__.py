"""Tests of wattsup.params."""
