"""Tests of wattsup.serving."""
