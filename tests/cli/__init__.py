"""Tests of wattsup.cli: the commands, run as users run them."""
