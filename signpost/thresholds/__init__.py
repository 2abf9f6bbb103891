"""Threshold documents as versioned, strictly validated config (no Flask, no database).

load_library() reads thresholds/*.yaml; Library.in_force(date) picks the version in use.
"""
from .loader import Library, ThresholdVersion, load_file, load_library, load_text
from .source import ConfigError, Problem

__all__ = ["ConfigError", "Library", "Problem", "ThresholdVersion", "load_file", "load_library", "load_text"]
