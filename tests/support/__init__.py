"""Test helpers shared by every suite (real databases, no mocks)."""
