"""Tests of wattsup.carbon."""
