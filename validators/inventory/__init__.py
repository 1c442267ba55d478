"""Inventory types: what collectors saw, one frozen snapshot per service per cohort."""
