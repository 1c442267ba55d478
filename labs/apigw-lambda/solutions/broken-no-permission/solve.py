"""apigw-lambda with the API and the route, but no permission for API Gateway to invoke the function
(every request would answer 500): the reference without its grant_invoke step.

permission and permission-scoped fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def no_permission(*_step_arguments: object) -> None:
    """The mistake: the step that lets API Gateway invoke the function is left out."""


solve = reference(__file__, grant_invoke=no_permission).solve

if __name__ == "__main__":
    run_by_hand(solve)
