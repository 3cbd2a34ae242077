"""Royalty statement runs built from DSP sales files."""
