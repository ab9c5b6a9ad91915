"""The command groups of `lianchuang`, one module each; `cli.py` joins them."""
