from rnnbench.cli import entry

entry()
