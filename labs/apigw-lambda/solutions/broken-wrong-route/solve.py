"""apigw-lambda whose only route is the catch-all `ANY /{proxy+}` (its permission covering every path),
so GET /orders has no route of its own.

route fails. Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and
LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

solve = reference(__file__, ROUTE_KEY="ANY /{proxy+}", SOURCE_PATH="/*").solve

if __name__ == "__main__":
    run_by_hand(solve)
