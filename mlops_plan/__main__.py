from mlops_plan.cli import run

run()
