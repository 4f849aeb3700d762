"""Hera tool registry: tool declarations, parameter checking and the built-in tools."""
