"""The template forgets VersioningConfiguration, and the stack is deployed without termination
protection.

versioning and termination-protection fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import edit, reference, run_by_hand

unversioned = edit(reference(__file__).TEMPLATE, "      VersioningConfiguration:\n        Status: Enabled\n", "")
solve = reference(__file__, TEMPLATE=unversioned, TERMINATION_PROTECTION=False).solve

if __name__ == "__main__":
    run_by_hand(solve)
