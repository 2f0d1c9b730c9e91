"""A plan as a pull-request comment (filled in below)."""

from __future__ import annotations

from mlops_plan.plan import Plan
from mlops_plan.render import plan_text


def render(plan: Plan) -> str:
    return plan_text.render(plan)
