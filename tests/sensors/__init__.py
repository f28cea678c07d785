"""Tests of wattsup.sensors."""
