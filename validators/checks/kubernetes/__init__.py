"""Kubernetes checks: pure functions of one namespace's KubernetesInventory, one module per kind of object.

Objects are dicts in the API server's JSON shape (validators.inventory.kubernetes).
"""
