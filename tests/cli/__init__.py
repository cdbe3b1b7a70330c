"""The command line: ``python -m anthropic_eventstream``."""
