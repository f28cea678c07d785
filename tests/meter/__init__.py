"""Tests of wattsup.meter."""
