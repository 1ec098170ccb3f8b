"""Online experiments: champion vs challenger A/B tests and a Thompson bandit.

See docs/experiments.md.
"""
