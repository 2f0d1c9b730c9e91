"""mlops-plan: lint, resolve and plan machine-learning model deployments declared in git."""

__version__ = "0.1.0"
